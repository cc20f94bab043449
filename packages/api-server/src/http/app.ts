/**
 * One Fastify instance of the API: JSON body parsing for every content type, endpoint-name check,
 * bearer-token auth, per-route load shedding, the error table, and the routes.
 */
import { timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { BodyTooLargeError, OverloadedError, UnauthorizedError, mapError, wireMessage } from '../errors.ts'
import { decodeUtf8, parseJson, stringifyJson } from '../statement.ts'
import { execErrorBody, registerDataRoutes } from './data-routes.ts'
import { registerStreamRoutes } from './stream-routes.ts'
import { registerInfoRoutes } from './info-routes.ts'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { ApiServerInit } from '../api-server.ts'
import type { ConcurrencyLimiter } from './concurrency.ts'
import type { RouteContext } from './context.ts'

// Every route's method and path, for 405 answers.
const ROUTES: ReadonlyArray<readonly [string, RegExp]> = [
  ['POST', /^\/v1\/(transactions|queries|subscriptions|table_stats)$/],
  ['POST', /^\/v1\/updates\/[^/]+$/],
  ['GET', /^\/v1\/subscriptions\/[^/]+$/],
  ['GET', /^\/v1\/(health|cluster\/members|schema)$/]
]

/** Builds the Fastify app for one listener. */
export function createHttpApp (init: ApiServerInit, ctx: RouteContext, limits: ConcurrencyLimiter): FastifyInstance {
  const logger = ctx.logger
  const token = init.bearerToken != null ? Buffer.from(init.bearerToken) : null
  const slots = new WeakMap<FastifyRequest, string>()
  const release = (req: FastifyRequest): void => {
    const route = slots.get(req)
    if (route != null) { slots.delete(req); limits.release(route) }
  }

  const app = Fastify({
    bodyLimit: init.bodyLimit ?? 16 * 1024 * 1024,
    forceCloseConnections: true,
    logger: false,
    // Errors raised before routing (a malformed `%` escape in the URL…) get the same JSON shape.
    frameworkErrors: (err, _req, reply) => {
      const r = reply as unknown as FastifyReply
      void r.code(400).header('content-type', 'application/json').send(stringifyJson({ error: err.message }))
    }
  })
  app.removeAllContentTypeParsers()
  // Every body is JSON whatever its content type (Corrosion clients do not always set one).
  // Bytes are decoded strictly: invalid UTF-8 is refused rather than replaced by U+FFFD and stored.
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (req, body, done) => {
    // `/v1/updates/:table` takes no body, and Corrosion ignores whatever is sent
    if (req.url.startsWith('/v1/updates/')) { done(null, undefined); return }
    try {
      const text = decodeUtf8(body as Buffer)
      if (text.trim() === '') { done(null, undefined); return }
      done(null, parseJson(text))
    } catch (err) { done(err as Error, undefined) }
  })

  // Hooks take callbacks rather than being async: an async hook costs every request a promise and
  // a microtask hop per hook. A hook that answers the request itself does not call `done`.
  app.addHook('onRequest', (req, reply, done) => {
    const wanted = req.headers['x-corrosion-requested-endpoint-name']
    if (init.endpointName != null && wanted != null && wanted !== init.endpointName) {
      reply.code(421).header('content-type', 'application/json').send(stringifyJson({ error: `this is endpoint "${init.endpointName}", not "${String(wanted)}"` }))
      return
    }
    if (token != null) {
      // The scheme is case-insensitive (RFC 7235), as in Corrosion's header parser; the token is exact.
      const m = /^bearer +(\S+) *$/i.exec(req.headers.authorization ?? '')
      const got = Buffer.from(m?.[1] ?? '')
      if (m == null || got.length !== token.length || !timingSafeEqual(got, token)) {
        reply.code(401).header('content-type', 'application/json').send(stringifyJson({ error: new UnauthorizedError().message }))
        return
      }
    }
    const route = req.routeOptions.url
    if (route != null) {
      if (!limits.acquire(route)) {
        reply.code(503).header('content-type', 'text/plain').send(new OverloadedError().message)
        return
      }
      slots.set(req, route)
    }
    done()
  })
  app.addHook('onSend', (req, _reply, payload, done) => { release(req); done(null, payload) })
  app.addHook('onResponse', (req, reply, done) => {
    release(req)
    init.onRequest?.({ route: req.routeOptions.url ?? 'unknown', method: req.method, status: reply.statusCode, durationMs: reply.elapsedTime })
    done()
  })
  app.addHook('onRequestAbort', (req, done) => { release(req); done() })

  app.setErrorHandler((err, req, reply) => {
    const e = err as Error & { code?: string, statusCode?: number }
    let mapped: Error = e
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') mapped = new BodyTooLargeError(`request body is larger than ${init.bodyLimit ?? 16 * 1024 * 1024} bytes`)
    const status = mapError(mapped, { status: e.statusCode != null && e.statusCode >= 400 ? e.statusCode : 500, sqlstate: 'XX000' }).status
    if (status >= 500) logger?.error({ err }, 'request failed')
    const message = wireMessage(mapped)
    // A body that never reached the handler (bad JSON, too large) still gets its route's error shape.
    const body = req.routeOptions.url === '/v1/transactions' ? execErrorBody(message, 0, ctx.actorId) : { error: message }
    void reply.code(status).header('content-type', 'application/json').send(stringifyJson(body))
  })
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? ''
    // A known path with another method is 405 with `Allow`, as Corrosion's router answers.
    const allowed = ROUTES.filter(([, re]) => re.test(path)).map(([method]) => method)
    if (allowed.length > 0) {
      void reply.code(405).header('allow', allowed.join(', ')).header('content-type', 'application/json')
        .send(stringifyJson({ error: `method ${req.method} not allowed on ${path}` }))
      return
    }
    void reply.code(404).header('content-type', 'application/json').send(stringifyJson({ error: `no route ${req.method} ${path}` }))
  })

  registerDataRoutes(app, ctx)
  // Hijacked stream responses skip `onSend`, so their slot is freed when the stream opens.
  registerStreamRoutes(app, { ...ctx, streamStarted: release })
  registerInfoRoutes(app, ctx)

  return app
}

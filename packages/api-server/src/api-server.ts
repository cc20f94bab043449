/**
 * `createApiServer`: the Corrosion-compatible HTTP API over an `ApiStore`, on Fastify. Owns the
 * listener, auth, load shedding, body parsing, the subscription manager and the updates hub.
 */
import { timingSafeEqual } from 'node:crypto'
import Fastify from 'fastify'
import { BodyTooLargeError, InvalidRequestError, OverloadedError, ServerClosedError, UnauthorizedError, errorMessage, mapError } from './errors.ts'
import { parseJson, stringifyJson } from './statement.ts'
import { createConcurrencyLimiter } from './http/concurrency.ts'
import { registerDataRoutes } from './http/data-routes.ts'
import { registerStreamRoutes } from './http/stream-routes.ts'
import { registerInfoRoutes } from './http/info-routes.ts'
import { createSubscriptionManager } from './subs/subscription-manager.ts'
import { createUpdateHub } from './subs/update-hub.ts'
import { openSubStorage } from './subs/sub-storage.ts'
import type { FastifyInstance, FastifyRequest } from 'fastify'
import type { AbortOptions, ApiCluster, ApiStore } from './ports.ts'
import type { ApiLogger } from './logger.ts'
import type { SubscriptionManager } from './subs/subscription-manager.ts'
import type { SubStorage } from './subs/sub-storage.ts'
import type { RouteContext } from './http/context.ts'

/** Options of {@link createApiServer}. */
export interface ApiServerInit {
  store: ApiStore
  /** Membership and health figures; absent for a single node. */
  cluster?: ApiCluster
  /** `host:port` (default `127.0.0.1:8080`; port 0 picks a free port). */
  addr?: string
  /** This node's actor id (32 hex chars), reported as `actor_id`. */
  actorId?: string
  /** When set, every route requires `Authorization: Bearer <token>`. */
  bearerToken?: string
  /** Maximum request body in bytes (default 16 MiB); larger gets 413. */
  bodyLimit?: number
  /** In-flight request limits: `default` for data routes (128), `light` for health/table_stats (4). */
  concurrency?: { default?: number, light?: number }
  /** Default `/v1/queries` timeout in seconds when `?timeout=` is absent (60; 0 = none). */
  queryTimeout?: number
  /** Directory for subscription persistence; absent keeps subscriptions in memory only. */
  dataDir?: string
  /** Subscription tuning. */
  subscriptions?: {
    batchDelayMs?: number
    retainChanges?: number
    idleTimeoutMs?: number
    maxBufferedBytes?: number
  }
  logger?: ApiLogger
  /** Called after every response (metrics). */
  onRequest?: (info: { route: string, method: string, status: number, durationMs: number }) => void
}

/** A running (or startable) API server. */
export interface ApiServer {
  /** Starts listening; resolves with the bound address. */
  start(options?: AbortOptions): Promise<{ host: string, port: number }>
  /** Ends every stream, closes the listener and persisted state. */
  stop(options?: AbortOptions): Promise<void>
  /** The bound address while listening. */
  readonly address: { host: string, port: number } | null
  /** The live subscriptions. */
  readonly subscriptions: SubscriptionManager
  /** The underlying Fastify instance (for `inject` in tests). */
  readonly fastify: FastifyInstance
}

const LIGHT_ROUTES = new Set(['/v1/table_stats', '/v1/health'])

/** Splits `host:port` / `[v6]:port`. */
export function parseAddr (addr: string): { host: string, port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr)
  if (m == null) throw new InvalidRequestError(`invalid listen address "${addr}" (expected host:port)`)
  const port = Number(m[2])
  if (port > 65535) throw new InvalidRequestError(`invalid port in "${addr}"`)
  return { host: m[1] as string, port }
}

/** Creates the server (not yet listening). */
export function createApiServer (init: ApiServerInit): ApiServer {
  const listen = parseAddr(init.addr ?? '127.0.0.1:8080')
  const logger = init.logger
  const storage: SubStorage | undefined = init.dataDir != null ? openSubStorage(init.dataDir) : undefined
  const subs = createSubscriptionManager({
    store: init.store,
    storage,
    logger,
    ...(init.subscriptions?.batchDelayMs != null ? { batchDelayMs: init.subscriptions.batchDelayMs } : {}),
    ...(init.subscriptions?.retainChanges != null ? { retainChanges: init.subscriptions.retainChanges } : {}),
    ...(init.subscriptions?.idleTimeoutMs != null ? { idleTimeoutMs: init.subscriptions.idleTimeoutMs } : {})
  })
  const updates = createUpdateHub(init.store)
  const ctx: RouteContext = {
    store: init.store,
    cluster: init.cluster,
    subs,
    updates,
    actorId: init.actorId ?? '0'.repeat(32),
    queryTimeout: init.queryTimeout ?? 60,
    maxBufferedBytes: init.subscriptions?.maxBufferedBytes ?? 8 * 1024 * 1024,
    logger
  }
  const limits = createConcurrencyLimiter(route => LIGHT_ROUTES.has(route)
    ? init.concurrency?.light ?? 4
    : init.concurrency?.default ?? 128)
  const token = init.bearerToken != null ? Buffer.from(`Bearer ${init.bearerToken}`) : null
  const slots = new WeakMap<FastifyRequest, string>()
  const release = (req: FastifyRequest): void => {
    const route = slots.get(req)
    if (route != null) { slots.delete(req); limits.release(route) }
  }

  const app = Fastify({ bodyLimit: init.bodyLimit ?? 16 * 1024 * 1024, forceCloseConnections: true, logger: false })
  app.removeAllContentTypeParsers()
  // Every body is JSON whatever its content type (Corrosion clients do not always set one).
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => {
    const text = body as string
    if (text.trim() === '') { done(null, undefined); return }
    try { done(null, parseJson(text)) } catch (err) { done(err as Error, undefined) }
  })

  app.addHook('onRequest', async (req, reply) => {
    if (token != null) {
      const got = Buffer.from(req.headers.authorization ?? '')
      if (got.length !== token.length || !timingSafeEqual(got, token)) {
        return reply.code(401).header('content-type', 'application/json').send(stringifyJson({ error: new UnauthorizedError().message }))
      }
    }
    const route = req.routeOptions.url
    if (route == null) return
    if (!limits.acquire(route)) {
      return reply.code(503).header('content-type', 'text/plain').send(new OverloadedError().message)
    }
    slots.set(req, route)
  })
  app.addHook('onSend', async (req) => { release(req) })
  app.addHook('onResponse', async (req, reply) => {
    release(req)
    init.onRequest?.({ route: req.routeOptions.url ?? 'unknown', method: req.method, status: reply.statusCode, durationMs: reply.elapsedTime })
  })
  app.addHook('onRequestAbort', async (req) => { release(req) })

  app.setErrorHandler((err, _req, reply) => {
    const e = err as Error & { code?: string, statusCode?: number }
    let mapped: Error = e
    if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') mapped = new BodyTooLargeError(`request body is larger than ${init.bodyLimit ?? 16 * 1024 * 1024} bytes`)
    const status = mapError(mapped, { status: e.statusCode != null && e.statusCode >= 400 ? e.statusCode : 500, sqlstate: 'XX000' }).status
    if (status >= 500) logger?.error({ err }, 'request failed')
    void reply.code(status).header('content-type', 'application/json').send(stringifyJson({ error: errorMessage(mapped) }))
  })
  app.setNotFoundHandler((req, reply) => {
    void reply.code(404).header('content-type', 'application/json').send(stringifyJson({ error: `no route ${req.method} ${req.url.split('?')[0] ?? ''}` }))
  })

  registerDataRoutes(app, ctx)
  registerStreamRoutes(app, ctx)
  registerInfoRoutes(app, ctx)

  let address: { host: string, port: number } | null = null
  let sweep: ReturnType<typeof setInterval> | null = null
  let state: 'new' | 'running' | 'stopped' = 'new'

  return {
    get address () { return address },
    subscriptions: subs,
    fastify: app,
    async start (options) {
      options?.signal?.throwIfAborted()
      if (state !== 'new') throw new ServerClosedError(state === 'running' ? 'server already started' : 'server was stopped')
      subs.start()
      updates.start()
      const idle = init.subscriptions?.idleTimeoutMs ?? 10 * 60_000
      sweep = setInterval(() => { subs.sweepIdle() }, Math.max(100, Math.min(60_000, idle / 2)))
      sweep.unref()
      await app.listen({ host: listen.host, port: listen.port, ...(options?.signal != null ? { signal: options.signal } : {}) })
      const a = app.server.address()
      if (a == null || typeof a === 'string') throw new ServerClosedError('server did not bind a TCP address')
      address = { host: a.address, port: a.port }
      state = 'running'
      return address
    },
    async stop (options) {
      options?.signal?.throwIfAborted()
      if (state === 'stopped') return
      state = 'stopped'
      if (sweep != null) clearInterval(sweep)
      subs.stop()
      updates.stop()
      await app.close()
      storage?.close()
      address = null
    }
  }
}

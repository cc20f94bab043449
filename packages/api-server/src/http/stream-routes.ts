/** `POST /v1/subscriptions`, `GET /v1/subscriptions/:id`, `POST /v1/updates/:table`. */
import { InvalidRequestError, MissingPrimaryKeyError, UnknownTableError } from '../errors.ts'
import { parseStatement } from '../statement.ts'
import { boolParam, intParam } from './params.ts'
import { createClientStream } from './client-stream.ts'
import type { ClientStream } from './client-stream.ts'
import { sendError } from './context.ts'
import type { FastifyInstance, FastifyReply } from 'fastify'
import type { Subscription, AttachOptions } from '../subs/subscription.ts'
import type { RouteContext } from './context.ts'

type Query = Record<string, string | string[] | undefined>

function attachOptions (q: Query): AttachOptions {
  const from = intParam(q, 'from')
  const skipRows = boolParam(q, 'skip_rows')
  return { ...(from != null ? { from } : {}), ...(skipRows != null ? { skipRows } : {}) }
}

function stream (ctx: RouteContext, sub: Subscription, options: AttachOptions, reply: FastifyReply): FastifyReply {
  const client = openStream(ctx, reply, { 'corro-query-id': sub.id, 'corro-query-hash': sub.hash })
  client.onClose(() => { sub.detach(client) })
  sub.attach(client, options)
  return reply
}

/**
 * Takes the response over from Fastify (events are written to it directly, see
 * `client-stream.ts`), sends the head and frees the route's concurrency slot: a stream is
 * long-lived and must not hold it.
 */
function openStream (ctx: RouteContext, reply: FastifyReply, headers: Record<string, string>): ClientStream {
  reply.hijack()
  ctx.streamStarted?.(reply.request)
  return createClientStream(reply.raw, { ...headers, 'content-type': 'application/x-ndjson' }, ctx.maxBufferedBytes)
}

/** Registers the streaming routes. */
export function registerStreamRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/subscriptions', async (req, reply) => {
    let sub: Subscription
    let options: AttachOptions
    try {
      options = attachOptions(req.query as Query)
      const statement = parseStatement(req.body)
      const existing = ctx.subs.find(statement)
      // Any `from` on create is refused, `from=0` included: Corrosion checks `params.from.is_some()`.
      if (existing == null && options.from != null) {
        throw new InvalidRequestError('a `from` query param was supplied, but no existing subscription found')
      }
      sub = existing ?? ctx.subs.getOrCreate(statement)
    } catch (err) {
      return sendError(reply, err, 400, ctx.logger)
    }
    return stream(ctx, sub, options, reply)
  })

  app.get('/v1/subscriptions/:id', async (req, reply) => {
    let sub: Subscription
    let options: AttachOptions
    try {
      options = attachOptions(req.query as Query)
      sub = ctx.subs.get((req.params as { id: string }).id)
    } catch (err) {
      return sendError(reply, err, 400, ctx.logger)
    }
    return stream(ctx, sub, options, reply)
  })

  app.post('/v1/updates/:table', async (req, reply) => {
    const table = (req.params as { table: string }).table
    const info = ctx.store.schema().tables.find(t => t.name === table)
    if (info == null) return sendError(reply, new UnknownTableError(`table not found: ${table}`), 400)
    if (!info.columns.some(c => c.pk > 0)) return sendError(reply, new MissingPrimaryKeyError(`table ${table} has no primary key`), 400)
    // The handle id is known only once watching, so the stream opens on a placeholder listener
    // that forwards to the real one.
    let client: ClientStream | null = null
    const handle = ctx.updates.watch(table, {
      send: (line, force) => client?.send(line, force) ?? true,
      end: (last) => { client?.end(last) }
    })
    client = openStream(ctx, reply, { 'corro-query-id': handle.id })
    client.onClose(handle.detach)
    return reply
  })
}

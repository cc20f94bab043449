/** `POST /v1/subscriptions`, `GET /v1/subscriptions/:id`, `POST /v1/updates/:table`. */
import { InvalidRequestError, MissingPrimaryKeyError, UnknownTableError } from '../errors.ts'
import { parseStatement } from '../statement.ts'
import { boolParam, intParam } from './params.ts'
import { createClientStream } from './client-stream.ts'
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

/** Sends the response head at once: a stream may have no event for a long time. */
function flushHeadOnPipe (reply: FastifyReply): void {
  reply.raw.once('pipe', () => { reply.raw.flushHeaders() })
}

function stream (ctx: RouteContext, sub: Subscription, options: AttachOptions, reply: FastifyReply): FastifyReply {
  const client = createClientStream(ctx.maxBufferedBytes)
  client.onClose(() => { sub.detach(client) })
  reply.raw.on('close', () => { client.body.destroy() })
  sub.attach(client, options)
  flushHeadOnPipe(reply)
  return reply.header('corro-query-id', sub.id).header('corro-query-hash', sub.hash).header('content-type', 'application/x-ndjson').send(client.body)
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
      if (existing == null && options.from != null && options.from > 0) {
        throw new InvalidRequestError('a `from` query param was supplied, but no existing subscription found')
      }
      sub = existing ?? ctx.subs.getOrCreate(statement)
    } catch (err) {
      return sendError(reply, err, 400)
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
      return sendError(reply, err, 400)
    }
    return stream(ctx, sub, options, reply)
  })

  app.post('/v1/updates/:table', async (req, reply) => {
    const table = (req.params as { table: string }).table
    const info = ctx.store.schema().tables.find(t => t.name === table)
    if (info == null) return sendError(reply, new UnknownTableError(`table not found: ${table}`), 400)
    if (!info.columns.some(c => c.pk > 0)) return sendError(reply, new MissingPrimaryKeyError(`table ${table} has no primary key`), 400)
    const client = createClientStream(ctx.maxBufferedBytes)
    const handle = ctx.updates.watch(table, client)
    client.onClose(handle.detach)
    reply.raw.on('close', () => { client.body.destroy() })
    flushHeadOnPipe(reply)
    return reply.header('corro-query-id', handle.id).header('content-type', 'application/x-ndjson').send(client.body)
  })
}

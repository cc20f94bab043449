/** `POST /v1/transactions`, `POST /v1/queries`, `POST /v1/table_stats`. */
import { Readable } from 'node:stream'
import { InvalidRequestError, RequestTimeoutError, errorMessage } from '../errors.ts'
import { encodeRow, parseStatement, parseStatements, stringifyJson } from '../statement.ts'
import { errorLine } from '../subs/subscription.ts'
import { numberParam } from './params.ts'
import { sendError } from './context.ts'
import type { FastifyInstance } from 'fastify'
import type { QueryCursor, SqlValue } from '../ports.ts'
import type { RouteContext } from './context.ts'

type Query = Record<string, string | string[] | undefined>

/**
 * The body of every `/v1/transactions` error: Corrosion's `ExecResponse` with one error result and
 * no version, so a client reads one shape whatever went wrong (bad JSON included).
 */
export function execErrorBody (message: string, time: number, actorId: string): { results: Array<{ error: string }>, time: number, version: null, actor_id: string } {
  return { results: [{ error: message }], time, version: null, actor_id: actorId }
}

/** Registers the data routes. */
export function registerDataRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.post('/v1/transactions', async (req, reply) => {
    const t0 = performance.now()
    const fail = (status: number, message: string): unknown =>
      reply.code(status).header('content-type', 'application/json')
        .send(stringifyJson(execErrorBody(message, (performance.now() - t0) / 1000, ctx.actorId)))
    let statements
    let timeout
    try {
      timeout = numberParam(req.query as Query, 'timeout')
      statements = parseStatements(req.body)
    } catch (err) { return fail(400, errorMessage(err)) }
    if (statements.length === 0) return fail(400, 'at least 1 statement is required')
    const signal = timeout != null && timeout > 0 ? AbortSignal.timeout(timeout * 1000) : undefined
    try {
      const out = await ctx.store.transaction(statements, signal != null ? { signal } : {})
      return reply.header('content-type', 'application/json').send(stringifyJson({
        results: out.results.map(r => ({ rows_affected: r.rowsAffected, time: r.time })),
        time: (performance.now() - t0) / 1000,
        version: out.version,
        actor_id: ctx.actorId
      }))
    } catch (err) {
      const timedOut = signal?.aborted === true
      // A failing statement is a 500 with one error result, as in Corrosion; nothing was written.
      const status = (err as Error)?.name === 'InvalidRequestError' ? 400 : 500
      return fail(status, timedOut ? new RequestTimeoutError(`transaction timed out after ${timeout ?? 0}s`).message : errorMessage(err))
    }
  })

  app.post('/v1/queries', async (req, reply) => {
    let cursor: QueryCursor
    let timeout: number
    const t0 = performance.now()
    try {
      timeout = numberParam(req.query as Query, 'timeout') ?? ctx.queryTimeout
      const statement = parseStatement(req.body)
      cursor = ctx.store.query(statement)
    } catch (err) {
      return sendError(reply, err, 400, ctx.logger)
    }
    let first: IteratorResult<SqlValue[]>
    try { first = cursor.rows.next() } catch (err) { cursor.close(); return sendError(reply, err, 500, ctx.logger) }
    const time = (performance.now() - t0) / 1000
    const deadline = timeout > 0 ? t0 + timeout * 1000 : null
    const body = queryBody(cursor, first, time, deadline, timeout)
    reply.raw.on('close', () => { body.destroy() })
    if (deadline != null) {
      // A client that stops reading must not hold the read cursor past the timeout.
      const timer = setTimeout(() => { body.destroy(); reply.raw.destroy() }, timeout * 1000 + 1000)
      timer.unref()
      body.once('close', () => { clearTimeout(timer) })
    }
    return reply.header('content-type', 'application/x-ndjson').send(body)
  })

  app.post('/v1/table_stats', async (req, reply) => {
    const body = req.body as { tables?: unknown } | undefined
    if (body == null || typeof body !== 'object' || !Array.isArray(body.tables) || !body.tables.every(t => typeof t === 'string')) {
      return sendError(reply, new InvalidRequestError('expected {"tables": [string, …]}'), 400)
    }
    try {
      const known = new Set(ctx.store.schema().tables.map(t => t.name))
      let total = 0
      const invalid: string[] = []
      for (const t of body.tables as string[]) {
        if (!known.has(t)) { invalid.push(t); continue }
        const cur = ctx.store.query({ sql: `SELECT count(*) FROM "${t.replaceAll('"', '""')}"` })
        try { total += Number(cur.rows.next().value?.[0] ?? 0) } finally { cur.close() }
      }
      return { total_row_count: total, invalid_tables: invalid }
    } catch (err) {
      ctx.logger?.warn({ err }, 'table_stats failed')
      return reply.code(500).send({ total_row_count: 0, invalid_tables: [] })
    }
  })
}

function queryBody (cursor: QueryCursor, first: IteratorResult<SqlValue[]>, time: number, deadline: number | null, timeout: number): Readable {
  let started = false
  let n = 0
  let pending: IteratorResult<SqlValue[]> | null = first
  return new Readable({
    highWaterMark: 64 * 1024,
    read () {
      // Lines are gathered into one chunk per read (fewer socket writes); rows are pulled only
      // as fast as the client reads them (back-pressure).
      let out = ''
      try {
        if (!started) {
          started = true
          out += stringifyJson({ columns: cursor.columns.map(c => c.name) }) + '\n'
        }
        for (;;) {
          if (deadline != null && performance.now() > deadline) {
            cursor.close()
            this.push(out + errorLine(new RequestTimeoutError(`query timed out after ${timeout}s`).message))
            this.push(null)
            return
          }
          const r = pending ?? cursor.rows.next()
          pending = null
          if (r.done === true) {
            this.push(out + stringifyJson({ eoq: { time } }) + '\n')
            this.push(null)
            return
          }
          out += stringifyJson({ row: [++n, encodeRow(r.value)] }) + '\n'
          if (out.length >= 16 * 1024) {
            const more = this.push(out)
            out = ''
            if (!more) return
          }
        }
      } catch (err) {
        cursor.close()
        this.push(out + errorLine(errorMessage(err)))
        this.push(null)
      }
    },
    destroy (err, cb) { cursor.close(); cb(err) }
  })
}

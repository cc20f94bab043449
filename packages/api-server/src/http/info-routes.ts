/** `GET /v1/health`, and Patina's additions `GET /v1/cluster/members` and `GET /v1/schema`. */
import { intParam, numberParam } from './params.ts'
import { sendError } from './context.ts'
import type { FastifyInstance } from 'fastify'
import type { HealthFigures } from '../ports.ts'
import type { RouteContext } from './context.ts'

type Query = Record<string, string | string[] | undefined>

/** Corrosion's exact body when no commit-lag sample exists. */
export const NO_P99_LAG = 'no p99 lag information available'

/** Registers the info routes. */
export function registerInfoRoutes (app: FastifyInstance, ctx: RouteContext): void {
  app.get('/v1/health', async (req, reply) => {
    let gapsMax, lagMax, maxQueue, queueSize, failureStatus
    try {
      const q = req.query as Query
      gapsMax = intParam(q, 'gaps')
      lagMax = numberParam(q, 'p99_lag')
      maxQueue = intParam(q, 'max_queue')
      queueSize = intParam(q, 'queue_size')
      failureStatus = intParam(q, 'failure_status') ?? 503
      // As Corrosion: a status it cannot use falls back to 503.
      if (failureStatus < 100 || failureStatus > 599) failureStatus = 503
    } catch (err) { return sendError(reply, err, 400) }
    let f: HealthFigures
    try {
      // Without a cluster nothing replicates, so the lag is truly zero.
      f = ctx.cluster?.health() ?? { gaps: 0, members: 0, p99Lag: 0, queueSize: 0 }
    } catch (err) { return sendError(reply, err, 500) }
    // As Corrosion (an existing client may rely on it): no lag sample yet, e.g. on a node that has
    // applied nothing from peers in the window, is reported as the failure status with this error.
    if (f.p99Lag == null) return reply.code(failureStatus).send({ error: NO_P99_LAG })
    const lag = f.p99Lag
    const unhealthy = (gapsMax != null && f.gaps > gapsMax) ||
      (maxQueue != null && f.queueSize > maxQueue) ||
      (lagMax != null && lag > lagMax && (queueSize == null || f.queueSize > queueSize))
    return reply.code(unhealthy ? failureStatus : 200)
      .send({ response: { gaps: f.gaps, members: f.members, p99_lag: lag, queue_size: f.queueSize } })
  })

  app.get('/v1/cluster/members', async (_req, reply) => {
    try {
      const members = ctx.cluster?.members() ?? []
      return {
        members: members.map(m => ({
          id: m.id,
          addr: m.addr,
          state: m.state,
          ...(m.rttMs != null ? { rtt_ms: m.rttMs } : {}),
          ...(m.incarnation != null ? { incarnation: m.incarnation } : {})
        }))
      }
    } catch (err) { return sendError(reply, err, 500) }
  })

  app.get('/v1/schema', async (_req, reply) => {
    try {
      const s = ctx.store.schema()
      return {
        tables: s.tables.map(t => ({
          name: t.name,
          columns: t.columns.map(c => ({ name: c.name, type: c.type, not_null: c.notNull, pk: c.pk, default_value: c.defaultValue })),
          sql: t.sql
        })),
        indexes: s.indexes.map(i => ({ name: i.name, table: i.table, sql: i.sql }))
      }
    } catch (err) { return sendError(reply, err, 500) }
  })
}

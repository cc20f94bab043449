import { decodeChangeset, ntp64ToMs } from '@patina/crdt-store'
import type { CrdtStore } from '@patina/crdt-store'
import type { Logger } from 'pino'
import type { AgentMetrics, LagWindow } from '../metrics.ts'
import type { PartitionFilter } from './partition.ts'

/** Options of the gossip payload handler. */
export interface PayloadHandlerInit {
  store: Pick<CrdtStore, 'apply'>
  guard: <T>(fn: () => T) => T
  partition: PartitionFilter
  metrics: AgentMetrics
  lag: LagWindow
  logger: Logger
  /** Wall clock in ms (for apply lag). */
  now: () => number
}

/**
 * The gossip → store direction: decodes a broadcast changeset and applies it. Returns whether it was
 * new here, which tells gossip whether to re-broadcast it. Bad payloads are counted and logged, never
 * thrown: a peer's bytes must not crash the node.
 */
export function createPayloadHandler (init: PayloadHandlerInit): (payload: Uint8Array, meta: { key: string; from: string }) => boolean {
  const { store, guard, partition, metrics, logger } = init
  return (payload, meta) => {
    if (partition.isAddrBlocked(meta.from)) {
      metrics.gossipDropped.inc({ reason: 'partitioned' })
      return false
    }
    let cs
    try {
      cs = decodeChangeset(payload)
    } catch (err) {
      metrics.gossipDropped.inc({ reason: 'malformed' })
      logger.warn({ err: (err as Error).message, from: meta.from }, 'dropped a malformed changeset')
      return false
    }
    try {
      const result = guard(() => store.apply(cs))
      const fresh = result.status === 'applied' || result.status === 'buffered' || result.status === 'cleared'
      metrics.changesetsApplied.inc({ result: fresh ? 'new' : 'known' })
      if (fresh) {
        const now = init.now()
        const lag = Math.max(0, (now - ntp64ToMs(cs.ts)) / 1000)
        init.lag.add(now, lag)
        metrics.applyLag.observe(lag)
      }
      return fresh
    } catch (err) {
      // e.g. a table this node's schema lacks yet: the whole version is refused and stays a gap
      // that anti-entropy fills once the schema catches up.
      metrics.changesetsApplied.inc({ result: 'error' })
      logger.warn({ err: (err as Error).message, name: (err as Error).name, key: meta.key }, 'could not apply a changeset')
      return false
    }
  }
}

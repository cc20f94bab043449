import { decodeChangeset, ntp64ToMs } from '@patina/crdt-store'
import type { Changeset, CrdtStore } from '@patina/crdt-store'
import type { ReceivedPayload } from '@patina/quic-gossip'
import type { Logger } from 'pino'
import type { AgentMetrics, LagWindow } from '../metrics.ts'
import type { PartitionFilter } from './partition.ts'
import { isNewHere } from './sync-port.ts'

/** Options of the gossip payload handler. */
export interface PayloadHandlerInit {
  store: Pick<CrdtStore, 'applyBatch'>
  guard: <T>(fn: () => T) => T
  partition: PartitionFilter
  metrics: AgentMetrics
  lag: LagWindow
  logger: Logger
  /** Wall clock in ms (for apply lag). */
  now: () => number
}

/**
 * The gossip → store direction: decodes the new changesets of one received frame and applies them
 * in one store transaction (one commit for the frame, not one per changeset). Returns, per item,
 * whether it was new here, which tells gossip whether to re-broadcast it. Bad payloads are counted
 * and logged, never thrown: a peer's bytes must not crash the node.
 */
export function createPayloadHandler (init: PayloadHandlerInit): (items: readonly ReceivedPayload[]) => boolean[] {
  const { store, guard, partition, metrics, logger } = init
  return (items) => {
    const verdicts = items.map(() => false)
    const decoded: Changeset[] = []
    const slots: number[] = []
    for (const [i, { payload, meta }] of items.entries()) {
      if (partition.isAddrBlocked(meta.from)) {
        metrics.gossipDropped.inc({ reason: 'partitioned' })
        continue
      }
      try {
        decoded.push(decodeChangeset(payload))
        slots.push(i)
      } catch (err) {
        metrics.gossipDropped.inc({ reason: 'malformed' })
        logger.warn({ err: (err as Error).message, from: meta.from }, 'dropped a malformed changeset')
      }
    }
    if (decoded.length === 0) return verdicts
    let results
    try {
      results = guard(() => store.applyBatch(decoded))
    } catch (err) {
      // SQLite itself failed (the guard stops the node when it is fatal): nothing was applied
      metrics.changesetsApplied.inc({ source: 'gossip', result: 'error' }, decoded.length)
      logger.warn({ err: (err as Error).message, name: (err as Error).name, items: decoded.length }, 'could not apply received changesets')
      return verdicts
    }
    const now = init.now()
    // counted once per frame, not per changeset (label lookups cost more than the count)
    let fresh = 0
    let known = 0
    let failed = 0
    for (let k = 0; k < results.length; k++) {
      const result = results[k]!
      const i = slots[k]!
      if (result instanceof Error) {
        // e.g. a table this node's schema lacks yet: the whole version is refused and stays a gap
        // that anti-entropy fills once the schema catches up.
        failed++
        logger.warn({ err: result.message, name: result.name, key: items[i]!.meta.key }, 'could not apply a changeset')
        continue
      }
      const isFresh = isNewHere(result)
      if (isFresh) fresh++
      else known++
      verdicts[i] = isFresh
      if (isFresh) {
        const lag = Math.max(0, (now - ntp64ToMs(decoded[k]!.ts)) / 1000)
        init.lag.add(now, lag)
        metrics.applyLag.observe(lag)
      }
    }
    if (fresh > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'new' }, fresh)
    if (known > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'known' }, known)
    if (failed > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'error' }, failed)
    return verdicts
  }
}

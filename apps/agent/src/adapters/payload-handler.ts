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
  /** Runs the batch apply once the current event-loop turn is done. Default `setImmediate`. */
  defer?: (fn: () => void) => void
}

/** The gossip → store handler, with a way to apply what is still pending (on stop). */
export interface PayloadHandler {
  (items: readonly ReceivedPayload[]): boolean[]
  /** Applies the changesets received so far and not applied yet. */
  flush(): void
}

/**
 * The gossip → store direction. Decodes the new changesets of each received frame and queues them;
 * everything received in one event-loop turn is applied in one store transaction once the turn is
 * done (under load several frames arrive per turn: one commit for all of them, not one per frame).
 * Returns, per item, whether gossip may re-broadcast it: every changeset that decodes counts as
 * new (gossip hands each key up only once, so it is new unless sync brought it first, and a
 * re-broadcast of one the store then finds known or refuses costs only a send). Bad payloads are
 * counted and logged, never thrown: a peer's bytes must not crash the node.
 */
export function createPayloadHandler (init: PayloadHandlerInit): PayloadHandler {
  const { store, guard, partition, metrics, logger } = init
  const defer = init.defer ?? ((fn: () => void): void => { setImmediate(fn) })
  let pending: { cs: Changeset, key: string }[] = []
  let scheduled = false

  const flush = (): void => {
    scheduled = false
    if (pending.length === 0) return
    const batch = pending
    pending = []
    let results
    try {
      results = guard(() => store.applyBatch(batch.map(p => p.cs)))
    } catch (err) {
      // SQLite itself failed (the guard stops the node when it is fatal): nothing was applied
      metrics.changesetsApplied.inc({ source: 'gossip', result: 'error' }, batch.length)
      logger.warn({ err: (err as Error).message, name: (err as Error).name, items: batch.length }, 'could not apply received changesets')
      return
    }
    const now = init.now()
    // counted once per batch, not per changeset (label lookups cost more than the count)
    let fresh = 0
    let known = 0
    let failed = 0
    for (let k = 0; k < results.length; k++) {
      const result = results[k]!
      if (result instanceof Error) {
        // e.g. a table this node's schema lacks yet: the whole version is refused and stays a gap
        // that anti-entropy fills once the schema catches up.
        failed++
        logger.warn({ err: result.message, name: result.name, key: batch[k]!.key }, 'could not apply a changeset')
        continue
      }
      if (!isNewHere(result)) { known++; continue }
      fresh++
      const lag = Math.max(0, (now - ntp64ToMs(batch[k]!.cs.ts)) / 1000)
      init.lag.add(now, lag)
      metrics.applyLag.observe(lag)
    }
    if (fresh > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'new' }, fresh)
    if (known > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'known' }, known)
    if (failed > 0) metrics.changesetsApplied.inc({ source: 'gossip', result: 'error' }, failed)
  }

  const handle = (items: readonly ReceivedPayload[]): boolean[] => {
    const verdicts = items.map(() => false)
    for (const [i, { payload, meta }] of items.entries()) {
      if (partition.isAddrBlocked(meta.from)) {
        metrics.gossipDropped.inc({ reason: 'partitioned' })
        continue
      }
      try {
        pending.push({ cs: decodeChangeset(payload), key: meta.key })
        verdicts[i] = true
      } catch (err) {
        metrics.gossipDropped.inc({ reason: 'malformed' })
        logger.warn({ err: (err as Error).message, from: meta.from }, 'dropped a malformed changeset')
      }
    }
    if (pending.length > 0 && !scheduled) {
      scheduled = true
      defer(flush)
    }
    return verdicts
  }
  return Object.assign(handle, { flush })
}

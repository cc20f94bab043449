/**
 * Owns every subscription: deduplicates identical statements, finds the tables each one reads,
 * batches commit notifications for a few ms and re-evaluates only the subscriptions whose tables
 * changed, removes idle subscriptions, and restores persisted ones on start.
 */
import { SubscriptionNotFoundError, errorMessage } from '../errors.ts'
import { expandSql } from './expand-sql.ts'
import { analyzeQuery } from './query-tables.ts'
import { Subscription, defaultQueryLimits } from './subscription.ts'
import type { QueryLimits } from './subscription.ts'
import type { ApiStore, CommitEvent, Statement } from '../ports.ts'
import type { SubStorage } from './sub-storage.ts'
import type { ApiLogger } from '../logger.ts'

/** Options of {@link createSubscriptionManager}. */
export interface SubscriptionManagerInit {
  store: ApiStore
  storage?: SubStorage | undefined
  /** Commits are batched this long before re-evaluation (default 5 ms). */
  batchDelayMs?: number
  /** Change events kept for `from=` resume (default 500). */
  retainChanges?: number
  /** A subscription without clients is removed after this (default 10 min). */
  idleTimeoutMs?: number
  /** Bounds on each evaluation: most rows, longest run (default 200 000 rows, 10 s). */
  limits?: QueryLimits
  /** Clock in ms (default `Date.now`). */
  now?: () => number
  logger?: ApiLogger | undefined
}

/** The live subscriptions of one server. */
export interface SubscriptionManager {
  /** Finds the subscription for an identical statement, or null. */
  find(statement: Statement): Subscription | null
  /** Finds the subscription for an identical statement or creates it (runs the query). */
  getOrCreate(statement: Statement): Subscription
  /** The subscription with this id; throws `SubscriptionNotFoundError`. */
  get(id: string): Subscription
  /** Number of live subscriptions. */
  readonly size: number
  ids(): string[]
  /** Restores persisted subscriptions and starts listening to commits. */
  start(): void
  /** Removes subscriptions idle for longer than the idle timeout; returns how many. */
  sweepIdle(): number
  /** Re-evaluates every pending subscription now (normally done by the batch timer). */
  flush(): void
  stop(): void
}

/**
 * The dedup key of a statement: its SQL with the parameters expanded into it, as Corrosion keys
 * subscriptions (see `expand-sql.ts`).
 */
export function statementKey (s: Statement): string {
  return expandSql(s).trim()
}

/** Creates the manager. */
export function createSubscriptionManager (init: SubscriptionManagerInit): SubscriptionManager {
  const { store, storage, logger } = init
  const batchDelayMs = init.batchDelayMs ?? 5
  const retainChanges = init.retainChanges ?? 500
  const idleTimeoutMs = init.idleTimeoutMs ?? 10 * 60_000
  const now = init.now ?? Date.now
  const limits = init.limits ?? defaultQueryLimits
  const sliceMs = 10
  const byKey = new Map<string, Subscription>()
  const byId = new Map<string, Subscription>()
  const byTable = new Map<string, Set<Subscription>>()
  const dirty = new Set<Subscription>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let unsubscribe: (() => void) | null = null

  function index (sub: Subscription): void {
    byKey.set(statementKey(sub.statement), sub)
    byId.set(sub.id, sub)
    for (const t of sub.tables) {
      let set = byTable.get(t)
      if (set == null) byTable.set(t, set = new Set())
      set.add(sub)
    }
  }

  function remove (sub: Subscription, keepStored = false): void {
    byKey.delete(statementKey(sub.statement))
    byId.delete(sub.id)
    dirty.delete(sub)
    for (const t of sub.tables) byTable.get(t)?.delete(sub)
    if (keepStored) return
    try { storage?.remove(sub.id) } catch (err) { logger?.warn({ err }, 'could not remove persisted subscription') }
  }

  function evaluate (sub: Subscription): void {
    try {
      sub.evaluate()
    } catch (err) {
      logger?.warn({ err, id: sub.id }, 'subscription re-evaluation failed; removing it')
      sub.fail(new Error(`subscription failed: ${errorMessage(err)}`))
      // Kept on disk: the failure may be transient (store closing); a restart that cannot
      // restore it deletes it then.
      remove(sub, true)
    }
  }

  function flush (): void {
    if (timer != null) { clearTimeout(timer); timer = null }
    const subs = [...dirty]
    dirty.clear()
    for (const sub of subs) evaluate(sub)
  }

  // The timer's flush works in slices of ~sliceMs so many subscriptions do not block the event
  // loop (requests, socket writes) for long; what is left runs on the next turn.
  function flushSlice (): void {
    timer = null
    const end = performance.now() + sliceMs
    for (const sub of dirty) {
      dirty.delete(sub)
      evaluate(sub)
      if (performance.now() > end) break
    }
    if (dirty.size > 0 && timer == null && unsubscribe != null) timer = setTimeout(flushSlice, 0)
  }

  function onCommit (event: CommitEvent): void {
    for (const c of event.changes) {
      const subs = byTable.get(c.table)
      if (subs == null) continue
      for (const s of subs) {
        s.noteChange(c.table, c.pkValues)
        dirty.add(s)
      }
    }
    if (dirty.size > 0 && timer == null) timer = setTimeout(flushSlice, batchDelayMs)
  }

  return {
    find (statement) { return byKey.get(statementKey(statement)) ?? null },
    getOrCreate (statement) {
      const existing = byKey.get(statementKey(statement))
      if (existing != null) return existing
      // Validates (read-only, SQL errors) before anything is created.
      const { tables, rowLocal } = analyzeQuery(store, statement)
      const sub = new Subscription({ store, statement, tables, rowLocal, retainChanges, storage, now, limits })
      index(sub)
      return sub
    },
    get (id) {
      const sub = byId.get(id)
      if (sub == null) throw new SubscriptionNotFoundError(`could not find subscription with id ${id}`)
      return sub
    },
    get size () { return byId.size },
    ids () { return [...byId.keys()] },
    start () {
      if (unsubscribe != null) return
      if (storage != null) {
        for (const p of storage.load()) {
          try {
            const { tables, rowLocal } = analyzeQuery(store, p.statement)
            const sub = new Subscription({ store, statement: p.statement, tables, rowLocal, retainChanges, storage, now, limits, restored: p })
            index(sub)
            // Catch up with whatever changed while the server was down.
            sub.evaluate()
          } catch (err) {
            logger?.warn({ err, id: p.id }, 'could not restore subscription; deleting it')
            try { storage.remove(p.id) } catch { /* already logged */ }
          }
        }
      }
      unsubscribe = store.onCommit(onCommit)
    },
    sweepIdle () {
      let n = 0
      const t = now()
      for (const sub of [...byId.values()]) {
        if (sub.listenerCount === 0 && sub.idleSince != null && t - sub.idleSince >= idleTimeoutMs) { remove(sub); n++ }
      }
      return n
    },
    flush,
    stop () {
      unsubscribe?.()
      unsubscribe = null
      if (timer != null) { clearTimeout(timer); timer = null }
      for (const sub of byId.values()) sub.closeAll()
      byKey.clear(); byId.clear(); byTable.clear(); dirty.clear()
    }
  }
}

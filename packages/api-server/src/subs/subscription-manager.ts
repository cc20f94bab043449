/**
 * Owns every subscription: deduplicates identical statements, finds the tables each one reads,
 * re-evaluates only the subscriptions whose tables changed (at once when idle, coalescing commits
 * for a few ms under load), removes idle subscriptions, and restores persisted ones on start.
 */
import { SubscriptionNotFoundError, errorMessage } from '../errors.ts'
import { expandSql } from './expand-sql.ts'
import { analyzeQuery } from './query-tables.ts'
import { Subscription, defaultQueryLimits, notedKey } from './subscription.ts'
import type { QueryLimits } from './subscription.ts'
import type { ApiStore, CommitEvent, Statement } from '../ports.ts'
import type { SubStorage } from './sub-storage.ts'
import type { ApiLogger } from '../logger.ts'

/** Options of {@link createSubscriptionManager}. */
export interface SubscriptionManagerInit {
  store: ApiStore
  storage?: SubStorage | undefined
  /**
   * Under load, commits are coalesced for this long between evaluation passes (default 5 ms). The
   * first commit after a quiet period is evaluated at once.
   */
  batchDelayMs?: number
  /** An evaluation pass yields to the event loop after about this long (default 5 ms). */
  sliceMs?: number
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
  /** Re-evaluates every pending subscription now (normally scheduled after each commit). */
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
  const sliceMs = init.sliceMs ?? 5
  const byKey = new Map<string, Subscription>()
  const byId = new Map<string, Subscription>()
  const byTable = new Map<string, Set<Subscription>>()
  const dirty = new Set<Subscription>()
  let timer: ReturnType<typeof setTimeout> | null = null
  let immediate: ReturnType<typeof setImmediate> | null = null
  /** When the last evaluation pass started (ms, `performance.now()`); a pass spans several slices. */
  let lastPass = -Infinity
  /** Whether the next slice continues the current pass. */
  let continuing = false
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
    cancel()
    const subs = [...dirty]
    dirty.clear()
    batch(() => { for (const sub of subs) evaluate(sub) })
    lastPass = performance.now()
    continuing = false
  }

  /** Runs `fn` with the store's reads sharing one read transaction when the store can. */
  function batch (fn: () => void): void {
    if (store.readBatch == null) { fn(); return }
    let ran = false
    try {
      store.readBatch(() => { ran = true; fn() })
    } catch (err) {
      // Evaluation errors are handled per subscription; this is the batch itself failing.
      if (ran) logger?.warn({ err }, 'ending a read batch failed')
      else fn()
    }
  }

  function cancel (): void {
    if (timer != null) { clearTimeout(timer); timer = null }
    if (immediate != null) { clearImmediate(immediate); immediate = null }
  }

  // One pass evaluates every dirty subscription in slices of ~sliceMs, so many subscriptions do
  // not block the event loop (requests, socket writes) for long: the events of a slice go out
  // before the next slice runs, on the next turn (setImmediate: after I/O, without a timer's delay).
  function slice (): void {
    timer = null
    immediate = null
    const start = performance.now()
    if (!continuing) lastPass = start
    const end = start + sliceMs
    batch(() => {
      for (const sub of dirty) {
        dirty.delete(sub)
        evaluate(sub)
        if (performance.now() > end) break
      }
    })
    continuing = dirty.size > 0
    if (continuing && unsubscribe != null) immediate = setImmediate(slice)
  }

  // Leading edge: the first commit after a quiet period is evaluated at once (next turn, so the
  // commits of one turn coalesce). Commits that arrive within batchDelayMs of the last pass wait for
  // the window's end, so evaluation runs at most once per window under load.
  function schedule (): void {
    if (timer != null || immediate != null || dirty.size === 0) return
    const wait = lastPass + batchDelayMs - performance.now()
    if (wait <= 0) immediate = setImmediate(slice)
    else timer = setTimeout(slice, wait)
  }

  function onCommit (event: CommitEvent): void {
    // reading `changes` builds them: skip it while no subscription watches any table
    if (byTable.size === 0) return
    for (const c of event.changes) {
      const subs = byTable.get(c.table)
      if (subs == null) continue
      const key = notedKey(c.pkValues)
      for (const s of subs) {
        s.noteChange(c.table, c.pkValues, key)
        dirty.add(s)
      }
    }
    schedule()
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
      cancel()
      for (const sub of byId.values()) sub.closeAll()
      byKey.clear(); byId.clear(); byTable.clear(); dirty.clear()
    }
  }
}

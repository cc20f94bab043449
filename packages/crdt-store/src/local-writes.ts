import type { Statement as DbStatement } from 'better-sqlite3'
import { cloneBook } from './bookkeeping.ts'
import { packInternal } from './codec.ts'
import { MAX_VERSION } from './crr-sql.ts'
import { SqlError, TransactionTooLargeError } from './errors.ts'
import type { RowTouch } from './merge.ts'
import { KINDS, pendingEntries, pendingKeys } from './pending-rows.ts'
import type { Pending } from './pending-rows.ts'
import { looseValue } from './runtime.ts'
import { bindArgs, sqlError, INTERNAL_NAME, WRITE_HEAD } from './statement-input.ts'
import type { StoreState } from './store-state.ts'
import type { Tx } from './store.ts'
import type { Changeset, SqlValue, Statement, StatementResult, TransactionResult } from './types.ts'
import type { RowList } from './version-reader.ts'

/** The local write path of a store. */
export interface LocalWrites {
  /** Runs `body` in one local write transaction; assigns a version when a CRR row changed. */
  runLocal<T>(body: () => T): { version: number | null; value: T; touched: RowTouch[] }
  /** The store's `transaction()`: a list of statements, or a function writing through a `Tx`. */
  transaction(arg: readonly Statement[] | ((tx: Tx) => unknown)): TransactionResult & { value?: unknown }
  /** Drops the prepared client statements (after a schema change). */
  clearStatements(): void
}

/** Creates the local write path of a store. */
export function localWrites (
  state: StoreState,
  compactStep: (overwrites: number) => void,
  versionChangesets: (ord: number, actor: Uint8Array, version: number) => Changeset[]
): LocalWrites {
  const { db, st, bs, books, clock, siteId, siteHex, capture, listeners, alive, notNested, localBook, emit } = state

  const rowListOf = (p: Pending): RowList => [...p.rows].map(([t, m]) => [t, pendingKeys(m)])

  /** Runs `body` in one local write transaction; assigns a version when a CRR row changed. */
  const runLocal = <T>(body: () => T): { version: number | null; value: T; touched: RowTouch[] } => {
    alive()
    notNested()
    st.begin.run()
    const local = localBook()
    if (local.head >= MAX_VERSION) { st.rollback.run(); throw new TransactionTooLargeError('this actor has used every version number') }
    capture.pending = { dbv: local.head + 1, seq: 0, lastBase: 0, rows: new Map(), overwrites: 0 }
    try {
      const value = body()
      const p = capture.pending!
      let version: number | null = null
      if (p.seq > 0) {
        version = p.dbv
        compactStep(p.overwrites)
        st.putVersion.run(0, version, BigInt.asIntN(64, clock.now()), p.seq - 1, packInternal(rowListOf(p)))
        const next = cloneBook(local)
        next.head = version
        bs.save(next, local.gaps)
        st.commit.run()
        books.set(siteHex, next)
      } else {
        st.commit.run()
      }
      capture.pending = undefined
      const touched: RowTouch[] = []
      if (listeners.size > 0) for (const [table, m] of p.rows) for (const r of pendingEntries(m)) touched.push({ table, pk: r.pk, kind: r.kind < 3 ? KINDS[r.kind] : undefined })
      return { version, value, touched }
    } catch (err) {
      capture.pending = undefined
      if (db.inTransaction) st.rollback.run()
      throw err
    }
  }

  const lazyChangesets = (version: number | null): { readonly changesets: Changeset[] } => {
    let cached: Changeset[] | undefined
    return {
      get changesets () {
        if (version == null) return []
        cached ??= versionChangesets(0, siteId, version)
        return cached
      }
    }
  }

  // prepared client statements, most recently added last; `reader` cached (it is a native getter)
  const stmtCache = new Map<string, { stmt: DbStatement; reader: boolean }>()
  const execStatement = (sql: string, params: Statement['params']): StatementResult & { lastInsertRowid: number | bigint; rows?: Record<string, SqlValue>[] } => {
    if (typeof sql !== 'string') throw new SqlError('statement must have an sql string')
    let entry = stmtCache.get(sql)
    if (entry == null) {
      if (!WRITE_HEAD.test(sql)) {
        // a statement SQLite cannot even parse gets SQLite's own message
        try { db.prepare(sql) } catch (err) { throw sqlError(err, sql) }
        throw new SqlError(`only INSERT, UPDATE, DELETE, REPLACE and SELECT statements are allowed in a transaction; schema changes go through applySchema (in: ${sql.slice(0, 200)})`)
      }
      if (INTERNAL_NAME.test(sql.replace(/'(?:[^']|'')*'/g, "''"))) throw new SqlError(`statements may not touch the store's internal tables or functions (in: ${sql.slice(0, 200)})`)
      let stmt: DbStatement
      try { stmt = db.prepare(sql) } catch (err) { throw sqlError(err, sql) }
      if (stmtCache.size >= 256) stmtCache.delete(stmtCache.keys().next().value!)
      entry = { stmt, reader: stmt.reader }
      if (entry.reader) stmt.safeIntegers(true)
      stmtCache.set(sql, entry)
    }
    const t0 = performance.now()
    try {
      const args = bindArgs(params)
      if (entry.reader) {
        const rows = entry.stmt.all(...args) as Record<string, SqlValue>[]
        for (const r of rows) for (const k in r) r[k] = looseValue(r[k]!)
        return { rowsAffected: rows.length, time: (performance.now() - t0) / 1000, lastInsertRowid: 0, rows }
      }
      const info = entry.stmt.run(...args)
      return { rowsAffected: info.changes, time: (performance.now() - t0) / 1000, lastInsertRowid: info.lastInsertRowid }
    } catch (err) { throw sqlError(err, sql) }
  }

  function transaction (arg: readonly Statement[] | ((tx: Tx) => unknown)): TransactionResult & { value?: unknown } {
    const results: StatementResult[] = []
    let out
    if (typeof arg === 'function') {
      const tx: Tx = {
        run (sql, params) {
          const r = execStatement(sql, params)
          results.push({ rowsAffected: r.rowsAffected, time: r.time })
          return r
        },
        all (sql, params) {
          return execStatement(sql, params).rows ?? []
        }
      }
      out = runLocal(() => arg(tx))
    } else {
      if (!Array.isArray(arg)) throw new SqlError('transaction expects a list of statements or a function')
      out = runLocal(() => {
        for (const s of arg) {
          if (s == null || typeof s !== 'object') throw new SqlError('each statement must be an object with an sql string')
          const r = execStatement(s.sql, s.params)
          results.push({ rowsAffected: r.rowsAffected, time: r.time })
        }
      })
    }
    emit('local', out.touched)
    const res = Object.defineProperties({ version: out.version, results, value: out.value } as TransactionResult & { value?: unknown }, {
      changesets: { get: Object.getOwnPropertyDescriptor(lazyChangesets(out.version), 'changesets')!.get!, enumerable: true }
    })
    return res
  }

  return { runLocal, transaction, clearStatements () { stmtCache.clear() } }
}

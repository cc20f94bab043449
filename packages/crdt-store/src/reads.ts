import type { Statement as DbStatement } from 'better-sqlite3'
import { SqlError, StatementNotReadonlyError } from './errors.ts'
import { looseValue } from './runtime.ts'
import { bindArgs, sqlError } from './statement-input.ts'
import type { StoreState } from './store-state.ts'
import type { QueryColumn, QueryCursor, SqlValue, Statement } from './types.ts'

/** The read side of a store. */
export interface Reads {
  /** A read-only query as a cursor of raw rows (the store's `read()`). */
  read(sql: string, params?: Statement['params']): QueryCursor
  /** A read-only query with every row at once (the store's `readAll()`). */
  readAll(sql: string, params?: Statement['params']): { columns: QueryColumn[]; rows: SqlValue[][] }
  /** Runs `fn` with its reads sharing one read transaction (the store's `readBatch()`). */
  readBatch<T>(fn: () => T): T
  /** Drops the prepared read statements (after a schema change). */
  clear(): void
}

interface Prepared { stmt: DbStatement; columns: QueryColumn[] }

// Most recently used last; readers such as subscriptions re-run the same few statements often.
const MAX_CACHED = 512

/** Creates the read side of a store over its reader connection. */
export function reads (state: StoreState): Reads {
  const { reader, memory } = state
  const cache = new Map<string, Prepared>()
  let batchDepth = 0
  const begin = reader.prepare('BEGIN')
  const commit = reader.prepare('COMMIT')
  // a batch's read transaction that could not end yet (a cursor it opened is still being read)
  let pendingCommit = false
  // after a schema change: the reader connection still holds the old schema until it next reads
  // the database, and would prepare (and describe) statements against it
  let schemaStale = false
  const probe = memory ? undefined : reader.prepare('SELECT count(*) FROM sqlite_master')
  const settle = (): void => {
    if (!pendingCommit) return
    if (!reader.inTransaction) { pendingCommit = false; return }
    try { commit.run(); pendingCommit = false } catch { /* a cursor is still open: its end retries */ }
  }

  const prepare = (sql: string): Prepared => {
    if (typeof sql !== 'string') throw new SqlError('a query needs an sql string')
    if (batchDepth === 0) settle()
    if (schemaStale) {
      if (!reader.inTransaction) probe?.get()
      schemaStale = false
    }
    const hit = cache.get(sql)
    // a statement still iterated by an open cursor cannot run again: prepare another
    if (hit != null && !hit.stmt.busy) {
      cache.delete(sql)
      cache.set(sql, hit)
      return hit
    }
    let stmt: DbStatement
    try { stmt = reader.prepare(sql) } catch (err) { throw sqlError(err, sql) }
    if (!stmt.readonly || !stmt.reader) throw new StatementNotReadonlyError(`statement could write or returns no rows: ${sql.slice(0, 200)}`)
    // table and column say where a result column comes from (subscriptions key rows by them)
    const columns = stmt.columns().map(c => ({ name: c.name, type: c.type, table: c.table, column: c.column }))
    stmt.raw(true).safeIntegers(true)
    const p = { stmt, columns }
    if (hit == null) {
      if (cache.size >= MAX_CACHED) cache.delete(cache.keys().next().value!)
      cache.set(sql, p)
    }
    return p
  }
  const conv = (row: SqlValue[]): SqlValue[] => { for (let i = 0; i < row.length; i++) row[i] = looseValue(row[i]!); return row }

  const readAll = (sql: string, params?: Statement['params']): { columns: QueryColumn[]; rows: SqlValue[][] } => {
    state.alive()
    const { stmt, columns } = prepare(sql)
    let rows: SqlValue[][]
    try { rows = stmt.all(...bindArgs(params)) as SqlValue[][] } catch (err) { throw sqlError(err, sql) }
    for (const r of rows) conv(r)
    return { columns, rows }
  }

  const read = (sql: string, params?: Statement['params']): QueryCursor => {
    state.alive()
    if (memory) {
      // one connection: materialise so writes are not blocked by an open cursor
      const { columns, rows } = readAll(sql, params)
      const it = rows[Symbol.iterator]()
      return { columns, rows: it, close () { it.return?.() } }
    }
    const { stmt, columns } = prepare(sql)
    let it: IterableIterator<SqlValue[]>
    try {
      const inner = stmt.iterate(...bindArgs(params)) as IterableIterator<SqlValue[]>
      it = (function * () { try { for (const r of inner) yield conv(r) } finally { if (batchDepth === 0) settle() } })()
      const ret = it.return?.bind(it)
      it.return = (v?: unknown) => {
        inner.return?.()
        const r = ret != null ? ret(v) : { done: true as const, value: undefined }
        if (batchDepth === 0) settle()
        return r
      }
    } catch (err) { throw sqlError(err, sql) }
    return { columns, rows: it, close () { it.return?.() } }
  }

  const readBatch = <T>(fn: () => T): T => {
    state.alive()
    // the in-memory store reads on the writer: a transaction there would hold up writes
    if (memory || batchDepth > 0) return fn()
    settle()
    if (reader.inTransaction) return fn()
    // a streaming cursor open elsewhere keeps the connection busy: then no shared snapshot this time
    try { begin.run() } catch { return fn() }
    batchDepth++
    try {
      return fn()
    } finally {
      batchDepth--
      // a cursor fn left open keeps the snapshot until it ends (settle() runs again then)
      pendingCommit = true
      settle()
    }
  }

  return { read, readAll, readBatch, clear () { cache.clear(); schemaStale = true } }
}

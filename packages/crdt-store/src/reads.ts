import type { Database as Db, Statement as DbStatement } from 'better-sqlite3'
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

/** A read-only connection and the statements prepared on it, most recently used last. */
interface ReadConn { db: Db; cache: Map<string, Prepared>; generation: number }

// readers such as subscriptions re-run the same few statements often
const MAX_CACHED = 512
// a cursor connection's own cache: one client stream runs one statement
const MAX_CACHED_CURSOR = 32
// cursor connections kept open for the next cursor; more are closed when their cursor ends
const MAX_IDLE_CURSOR_CONNS = 2

/**
 * Creates the read side of a store. Whole-result reads (`readAll`, `readBatch`) run on the store's
 * reader connection; each streaming cursor (`read`) gets a read-only connection of its own for as
 * long as it is open. SQLite holds a connection's read snapshot while any statement on it is still
 * stepping, so a cursor sharing the reader would make every other read see the database as it was
 * when the cursor started: a commit made meanwhile would stay invisible to subscriptions and to
 * queries that come after it.
 */
export function reads (state: StoreState): Reads {
  const { reader, memory } = state
  const main: ReadConn = { db: reader, cache: new Map(), generation: 0 }
  let batchDepth = 0
  const begin = reader.prepare('BEGIN')
  const commit = reader.prepare('COMMIT')
  // after a schema change: the reader connection still holds the old schema until it next reads
  // the database, and would prepare (and describe) statements against it
  let schemaStale = false
  const probe = memory ? undefined : reader.prepare('SELECT count(*) FROM sqlite_master')
  // cursor connections: idle ones wait for the next cursor; `open` holds every one not yet closed
  let generation = 0
  const idle: ReadConn[] = []
  const open = new Set<ReadConn>()
  state.onClose(() => {
    for (const c of open) { try { c.db.close() } catch { /* a cursor is mid-step: the process is ending it */ } }
    open.clear()
    idle.length = 0
  })

  const prepareOn = (conn: ReadConn, sql: string, max: number): Prepared => {
    if (typeof sql !== 'string') throw new SqlError('a query needs an sql string')
    const hit = conn.cache.get(sql)
    // a statement still iterated by an open cursor cannot run again: prepare another
    if (hit != null && !hit.stmt.busy) {
      conn.cache.delete(sql)
      conn.cache.set(sql, hit)
      return hit
    }
    let stmt: DbStatement
    try { stmt = conn.db.prepare(sql) } catch (err) { throw sqlError(err, sql) }
    if (!stmt.readonly || !stmt.reader) throw new StatementNotReadonlyError(`statement could write or returns no rows: ${sql.slice(0, 200)}`)
    // table and column say where a result column comes from (subscriptions key rows by them)
    const columns = stmt.columns().map(c => ({ name: c.name, type: c.type, table: c.table, column: c.column }))
    stmt.raw(true).safeIntegers(true)
    const p = { stmt, columns }
    if (hit == null) {
      if (conn.cache.size >= max) conn.cache.delete(conn.cache.keys().next().value!)
      conn.cache.set(sql, p)
    }
    return p
  }

  const prepare = (sql: string): Prepared => {
    // a batch whose COMMIT failed must not leave the reader on an old snapshot
    if (batchDepth === 0 && !memory && reader.inTransaction) commit.run()
    if (schemaStale) {
      if (!reader.inTransaction) probe?.get()
      schemaStale = false
    }
    return prepareOn(main, sql, MAX_CACHED)
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

  const checkout = (): ReadConn => {
    const c = idle.pop()
    if (c != null) return c
    const conn = { db: state.openReader(), cache: new Map<string, Prepared>(), generation }
    open.add(conn)
    return conn
  }
  const release = (conn: ReadConn): void => {
    if (!open.has(conn)) return
    if (conn.generation === generation && idle.length < MAX_IDLE_CURSOR_CONNS) { idle.push(conn); return }
    open.delete(conn)
    try { conn.db.close() } catch { /* still stepping: closed with the store */ }
  }

  const read = (sql: string, params?: Statement['params']): QueryCursor => {
    state.alive()
    if (memory) {
      // one connection: materialise so writes are not blocked by an open cursor
      const { columns, rows } = readAll(sql, params)
      const it = rows[Symbol.iterator]()
      return { columns, rows: it, close () { it.return?.() } }
    }
    const conn = checkout()
    let released = false
    const done = (): void => { if (!released) { released = true; release(conn) } }
    let it: IterableIterator<SqlValue[]>
    let columns: QueryColumn[]
    try {
      const p = prepareOn(conn, sql, MAX_CACHED_CURSOR)
      columns = p.columns
      const inner = p.stmt.iterate(...bindArgs(params)) as IterableIterator<SqlValue[]>
      it = (function * () { try { for (const r of inner) yield conv(r) } finally { done() } })()
      const ret = it.return?.bind(it)
      it.return = (v?: unknown) => {
        inner.return?.()
        const r = ret != null ? ret(v) : { done: true as const, value: undefined }
        done()
        return r
      }
    } catch (err) {
      done()
      throw err instanceof SqlError || err instanceof StatementNotReadonlyError ? err : sqlError(err, sql)
    }
    return { columns, rows: it, close () { it.return?.() } }
  }

  const readBatch = <T>(fn: () => T): T => {
    state.alive()
    // the in-memory store reads on the writer: a transaction there would hold up writes
    if (memory || batchDepth > 0) return fn()
    if (reader.inTransaction) commit.run()
    begin.run()
    batchDepth++
    try {
      return fn()
    } finally {
      batchDepth--
      // nothing streams on the reader, so this cannot find a busy statement; if it ever fails,
      // the next read ends the transaction before it runs
      try { commit.run() } catch (err) { state.log?.warn?.({ err }, 'ending a read batch failed') }
    }
  }

  return {
    read,
    readAll,
    readBatch,
    clear () {
      main.cache.clear()
      schemaStale = true
      // cursor connections prepared against the old schema: drop the idle ones, and the busy ones
      // when their cursor ends
      generation++
      for (const c of idle.splice(0)) { open.delete(c); c.db.close() }
    }
  }
}

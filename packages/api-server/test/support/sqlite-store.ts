/**
 * A real better-sqlite3 `ApiStore` for this package's tests: one writer connection, read-only
 * reader connections (WAL) for queries, change capture by temp triggers writing (table, pk, kind)
 * into a temp log table that is read and cleared after each commit.
 */
import Database from 'better-sqlite3'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SqlError, StatementNotReadonlyError } from '../../src/errors.ts'
import { packPk } from '../../src/pk.ts'
import type {
  ApiStore, ColumnInfo, CommitEvent, QueryCursor, RowChange, RowChangeKind, SchemaInfo, SqlValue, Statement,
  StatementResult, TableInfo, TransactionOutcome, AbortOptions
} from '../../src/ports.ts'
import type { Database as Db, Statement as Stmt } from 'better-sqlite3'

export type { Db as Database }

/** Options of {@link createSqliteApiStore}. */
export interface SqliteApiStoreInit {
  /** Database file; default a fresh temporary file removed by `close()`. `':memory:'` works (reads share the writer). */
  path?: string
  /** Schema SQL run at creation. */
  schema?: string
}

/** The test store: the port plus `close()`, the writer connection and `applySchema`. */
export type SqliteApiStore = ApiStore & {
  close(): void
  db: Db
  /** Runs DDL and re-installs change capture for every table. */
  applySchema(sql: string): void
  /** Number of committed transactions that produced a version. */
  readonly version: number
  /** Runs statements like `transaction` but reports the commit as merged from a peer (`source: 'remote'`). */
  applyRemote(statements: readonly Statement[]): Promise<TransactionOutcome>
}

const LOG = 'temp.__api_log'
const MAX_PK = 8

function toBindable (v: SqlValue): unknown {
  // An integral number beyond 64 bits (JSON 1e20) can only be a REAL.
  if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 2 ** 63) return BigInt(v)
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return v
}

function bind (stmt: Stmt, params: Statement['params']): unknown[] {
  if (params == null) return []
  if (Array.isArray(params)) return (params as SqlValue[]).map(toBindable)
  const named: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(params as Record<string, SqlValue>)) {
    named[/^[:@$]/.test(k) ? k.slice(1) : k] = toBindable(v)
  }
  void stmt
  return [named]
}

const MIN_SAFE = BigInt(Number.MIN_SAFE_INTEGER)
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER)

function fromSqlite (v: unknown): SqlValue {
  if (typeof v === 'bigint') return v >= MIN_SAFE && v <= MAX_SAFE ? Number(v) : v
  if (Buffer.isBuffer(v)) return new Uint8Array(v.buffer, v.byteOffset, v.byteLength)
  return v as SqlValue
}

function wrap (err: unknown): Error {
  if (err instanceof Error && (err.name === 'SqliteError' || err.name === 'RangeError' || err.name === 'TypeError')) {
    const code = (err as { code?: string }).code
    return new SqlError(err.message, code != null ? { cause: err, code } : { cause: err })
  }
  return err instanceof Error ? err : new SqlError(String(err))
}

function quote (name: string): string { return `"${name.replaceAll('"', '""')}"` }

/** Creates the store. Export name and shape are stable (other suites use it). */
export function createSqliteApiStore (init: SqliteApiStoreInit = {}): SqliteApiStore {
  let tmpDir: string | undefined
  let path = init.path
  if (path == null) {
    tmpDir = mkdtempSync(join(tmpdir(), 'patina-api-store-'))
    path = join(tmpDir, 'db.sqlite')
  }
  const memory = path === ':memory:'
  const db = new Database(path)
  if (!memory) db.pragma('journal_mode = WAL')
  db.pragma('synchronous = NORMAL')
  // REPLACE must fire delete triggers so replaced rows are captured.
  db.pragma('recursive_triggers = ON')
  const readers: Db[] = []
  const listeners = new Set<(e: CommitEvent) => void>()
  let version = 0
  let closed = false

  function userTables (): TableInfo[] {
    const rows = db.prepare("SELECT name, sql FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string, sql: string }>
    return rows.map(r => {
      const cols = db.prepare(`PRAGMA table_info(${quote(r.name)})`).all() as Array<{ name: string, type: string, notnull: number, pk: number, dflt_value: string | null }>
      return { name: r.name, sql: r.sql, columns: cols.map(c => ({ name: c.name, type: c.type, notNull: c.notnull === 1, pk: c.pk, defaultValue: c.dflt_value })) }
    })
  }

  function installCapture (): void {
    const ks = Array.from({ length: MAX_PK }, (_, i) => `k${i}`)
    db.exec(`CREATE TEMP TABLE IF NOT EXISTS __api_log (seq INTEGER PRIMARY KEY, tbl TEXT NOT NULL, kind TEXT NOT NULL, ${ks.join(', ')})`)
    for (const t of userTables()) {
      let pkCols = t.columns.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk).map(c => quote(c.name))
      if (pkCols.length === 0) pkCols = ['rowid']
      if (pkCols.length > MAX_PK) throw new SqlError(`table ${t.name} has more than ${MAX_PK} primary key columns`)
      const cols = ks.slice(0, pkCols.length).join(', ')
      const vals = (p: string): string => pkCols.map(c => `${p}.${c}`).join(', ')
      const tn = t.name.replaceAll("'", "''")
      const base = `__api_cap_${t.name.replace(/[^A-Za-z0-9_]/g, '_')}`
      db.exec(`
        DROP TRIGGER IF EXISTS temp.${quote(base + '_i')};
        DROP TRIGGER IF EXISTS temp.${quote(base + '_u')};
        DROP TRIGGER IF EXISTS temp.${quote(base + '_d')};
        CREATE TEMP TRIGGER ${quote(base + '_i')} AFTER INSERT ON main.${quote(t.name)} BEGIN
          INSERT INTO ${LOG} (tbl, kind, ${cols}) VALUES ('${tn}', 'insert', ${vals('NEW')}); END;
        CREATE TEMP TRIGGER ${quote(base + '_u')} AFTER UPDATE ON main.${quote(t.name)} BEGIN
          INSERT INTO ${LOG} (tbl, kind, ${cols}) SELECT '${tn}', 'delete', ${vals('OLD')} WHERE (${vals('OLD')}) IS NOT (${vals('NEW')});
          INSERT INTO ${LOG} (tbl, kind, ${cols}) SELECT '${tn}', CASE WHEN (${vals('OLD')}) IS NOT (${vals('NEW')}) THEN 'insert' ELSE 'update' END, ${vals('NEW')}; END;
        CREATE TEMP TRIGGER ${quote(base + '_d')} AFTER DELETE ON main.${quote(t.name)} BEGIN
          INSERT INTO ${LOG} (tbl, kind, ${cols}) VALUES ('${tn}', 'delete', ${vals('OLD')}); END;
      `)
    }
  }

  const pkCounts = new Map<string, number>()
  function refreshPkCounts (): void {
    pkCounts.clear()
    for (const t of userTables()) pkCounts.set(t.name, Math.max(1, t.columns.filter(c => c.pk > 0).length))
  }

  function applySchema (sql: string): void {
    db.exec(sql)
    installCapture()
    refreshPkCounts()
  }

  applySchema(init.schema ?? '')

  function drainLog (): RowChange[] {
    const rows = prepareCached(db, `SELECT * FROM ${LOG} ORDER BY seq`).stmt.all() as unknown[][]
    if (rows.length === 0) return []
    prepareCached(db, `DELETE FROM ${LOG}`).stmt.run()
    // Net effect per (table, pk): insert+update → insert, insert+delete → delete, delete+insert → update.
    const net = new Map<string, { change: RowChange, first: RowChangeKind }>()
    for (const r of rows) {
      const table = r[1] as string
      const kind = r[2] as RowChangeKind
      const pkValues = r.slice(3, 3 + (pkCounts.get(table) ?? 1)).map(fromSqlite)
      const pk = packPk(pkValues)
      const key = table + '\u0000' + Buffer.from(pk).toString('hex')
      const prev = net.get(key)
      if (prev == null) { net.set(key, { change: { table, pk, pkValues, kind }, first: kind }); continue }
      net.delete(key) // re-insert to keep the order of the last change
      let next: RowChangeKind
      // insert then delete reports a delete: the insert may have replaced an existing row.
      if (prev.first === 'insert') next = kind === 'delete' ? 'delete' : 'insert'
      else if (prev.first === 'delete') next = kind === 'delete' ? 'delete' : 'update'
      else next = kind === 'delete' ? 'delete' : 'update'
      net.set(key, { change: { table, pk, pkValues, kind: next }, first: prev.first })
    }
    return [...net.values()].map(v => v.change)
  }

  function emit (event: CommitEvent): void {
    for (const l of [...listeners]) {
      try { l(event) } catch { /* a listener's failure must not affect the commit */ }
    }
  }

  // One statement runs at a time per connection (busy flag), so cached statements are safe to reuse.
  interface Prepared { stmt: Stmt, readonly: boolean, reader: boolean, columns: readonly ColumnInfo[] }
  const caches = new WeakMap<Db, Map<string, Prepared>>()
  function prepareCached (conn: Db, sql: string): Prepared {
    let cache = caches.get(conn)
    if (cache == null) caches.set(conn, cache = new Map())
    let p = cache.get(sql)
    if (p == null) {
      const stmt = conn.prepare(sql)
      p = { stmt, readonly: stmt.readonly, reader: stmt.reader, columns: [] }
      if (stmt.reader) {
        stmt.raw(true).safeIntegers(true)
        p.columns = stmt.columns().map(c => Object.freeze({ name: c.name, type: c.type, table: c.table, column: c.column }))
      }
      // One-off statements (EXPLAIN of each new subscription) are not kept.
      if (sql.startsWith('EXPLAIN ')) return p
      if (cache.size >= 4096) cache.delete(cache.keys().next().value as string)
      cache.set(sql, p)
    }
    return p
  }

  /** A reader connection and the prepared, checked read-only statement for `statement`. */
  function readable (statement: Statement): { conn: Db, p: Prepared } {
    if (closed) throw new SqlError('store is closed')
    const conn = reader()
    let p: Prepared
    try { p = prepareCached(conn, statement.sql) } catch (err) { throw wrap(err) }
    if (!p.readonly) throw new StatementNotReadonlyError()
    if (!p.reader) throw new SqlError('statement returns no rows')
    return { conn, p }
  }

  // The reader that `readBatch` holds a read transaction open on, while its callback runs.
  let pinned: Db | null = null
  const pendingCommit = new Set<Db>()
  const isBusy = (conn: Db): boolean => (conn as unknown as { __busy?: boolean }).__busy === true

  function reader (): Db {
    if (memory) return db
    if (pinned != null && !isBusy(pinned)) return pinned
    const free = readers.find(r => !(r as unknown as { __busy?: boolean }).__busy)
    if (free != null) return free
    const r = new Database(path, { readonly: true })
    readers.push(r)
    return r
  }

  // One reusable transaction wrapper; statements come from the per-connection cache.
  const runTransaction = db.transaction((statements: readonly Statement[], signal: AbortSignal | undefined): [StatementResult[], RowChange[]] => {
    const results: StatementResult[] = []
    for (const s of statements) {
      signal?.throwIfAborted()
      const t0 = performance.now()
      const p = prepareCached(db, s.sql)
      let rowsAffected = 0
      if (p.reader) p.stmt.all(...bind(p.stmt, s.params))
      else rowsAffected = p.stmt.run(...bind(p.stmt, s.params)).changes
      results.push({ rowsAffected, time: (performance.now() - t0) / 1000 })
    }
    return [results, drainLog()]
  })

  async function commit (statements: readonly Statement[], source: 'local' | 'remote', options?: AbortOptions): Promise<TransactionOutcome> {
    if (closed) throw new SqlError('store is closed')
    options?.signal?.throwIfAborted()
    let results: StatementResult[]
    let changes: RowChange[]
    try {
      [results, changes] = runTransaction(statements, options?.signal)
    } catch (err) {
      db.exec(`DELETE FROM ${LOG}`)
      if (err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError')) throw err
      throw wrap(err)
    }
    if (changes.length === 0) return { results, version: null }
    version++
    emit({ source, changes })
    return { results, version }
  }

  return {
    db,
    applySchema,
    get version () { return version },
    async transaction (statements: readonly Statement[], options?: AbortOptions): Promise<TransactionOutcome> {
      return commit(statements, 'local', options)
    },
    async applyRemote (statements: readonly Statement[]): Promise<TransactionOutcome> {
      return commit(statements, 'remote')
    },
    queryAll (statement: Statement): { columns: readonly ColumnInfo[], rows: SqlValue[][] } {
      const { p } = readable(statement)
      let rows: unknown[][]
      try { rows = p.stmt.all(...bind(p.stmt, statement.params)) as unknown[][] } catch (err) { throw wrap(err) }
      for (const r of rows) for (let i = 0; i < r.length; i++) r[i] = fromSqlite(r[i] as SqlValue)
      // The cached column descriptions themselves (frozen): nothing to copy per call.
      return { columns: p.columns, rows: rows as SqlValue[][] }
    },
    query (statement: Statement): QueryCursor {
      const { conn, p } = readable(statement)
      const columns = p.columns.map(c => ({ ...c }))
      let it: IterableIterator<unknown[]>
      try { it = p.stmt.iterate(...bind(p.stmt, statement.params)) as IterableIterator<unknown[]> } catch (err) { throw wrap(err) }
      const busy = conn as unknown as { __busy?: boolean }
      busy.__busy = true
      let done = false
      const finish = (): void => {
        if (done) return
        done = true
        busy.__busy = false
        it.return?.()
        // A batch ended while this cursor was open: end its read transaction now.
        if (pendingCommit.delete(conn) && !closed) conn.exec('COMMIT')
      }
      const rows: IterableIterator<SqlValue[]> = {
        [Symbol.iterator] () { return this },
        next () {
          if (done) return { done: true, value: undefined }
          let r: IteratorResult<unknown[]>
          try { r = it.next() } catch (err) { finish(); throw wrap(err) }
          if (r.done === true) { finish(); return { done: true, value: undefined } }
          return { done: false, value: r.value.map(fromSqlite) }
        },
        return () { finish(); return { done: true, value: undefined } }
      }
      return { columns, rows, close: finish }
    },
    readBatch<T> (fn: () => T): T {
      if (memory || closed || pinned != null) return fn()
      const conn = reader()
      conn.exec('BEGIN')
      pinned = conn
      try {
        return fn()
      } finally {
        pinned = null
        if (isBusy(conn)) pendingCommit.add(conn)
        else conn.exec('COMMIT')
      }
    },
    onCommit (listener) {
      listeners.add(listener)
      return () => { listeners.delete(listener) }
    },
    schema (): SchemaInfo {
      const tables = userTables()
      const indexes = (db.prepare("SELECT name, tbl_name AS tbl, sql FROM sqlite_schema WHERE type = 'index' AND sql IS NOT NULL ORDER BY name").all() as Array<{ name: string, tbl: string, sql: string }>)
        .map(i => ({ name: i.name, table: i.tbl, sql: i.sql }))
      return { tables, indexes }
    },
    close () {
      if (closed) return
      closed = true
      for (const r of readers) r.close()
      db.close()
      if (tmpDir != null) rmSync(tmpDir, { recursive: true, force: true })
    }
  }
}

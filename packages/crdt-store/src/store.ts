import Database from 'better-sqlite3'
import type { Database as Db, Statement as DbStatement } from 'better-sqlite3'
import { bookStore, cloneBook, isKnown, markKnown, markPartial } from './bookkeeping.ts'
import type { Book, BookStore } from './bookkeeping.ts'
import { encodeChangeset, decodeChangeset, packInternal, unpackInternal } from './codec.ts'
import { MAX_KEY_COLUMNS, MAX_SEQ, MAX_VERSION, SEQ_SPAN, stampOf, clockTableSql, addClockColumnSql, triggersSql, triggerNames, changesViewSql } from './crr-sql.ts'
import { AbortError, MalformedChangesetError, SchemaChangeError, SqlError, StoreOpenError, StatementNotReadonlyError, StoreClosedError, TransactionTooLargeError } from './errors.ts'
import { hlc } from './hlc.ts'
import type { Hlc } from './hlc.ts'
import { groupChanges, mergeGroups } from './merge.ts'
import type { RowTouch } from './merge.ts'
import { packValues } from './pack-pk.ts'
import { addRange, contains, countRanges, intersect, normalize, removeRangesFrom } from './ranges.ts'
import { computeNeeds, summarize } from './sync-plan.ts'
import type { Range } from './ranges.ts'
import { tableRuntime, looseValue, exactKey, toBytes } from './runtime.ts'
import type { TableRuntime } from './runtime.ts'
import { planSchema } from './schema-plan.ts'
import { crrTable, tableColumns, q } from './table-info.ts'
import { versionChanges, chunkVersion, ownedRows } from './version-reader.ts'
import { bindArgs, sqlError, INTERNAL_NAME, WRITE_HEAD } from './statement-input.ts'
import { KINDS, mergeKind, multiKey, pendingEntries } from './pending-rows.ts'
import type { Pending, PendingRows } from './pending-rows.ts'
import { hex, newSiteId } from './hex.ts'
import { validateChange } from './change-validation.ts'
import { forgetIdentity } from './backup-identity.ts'
import type { RowList } from './version-reader.ts'
import type {
  AbortOptions, ActorStatus, ApplyResult, Change, Changeset, CommitEvent, QueryCursor, RowChange,
  SchemaChange, SchemaInfo, SqlValue, Statement, StatementResult, StoreLogger, SyncNeeds, SyncSummary, TransactionResult
} from './types.ts'

/** Options of `openStore`. */
export interface StoreInit {
  /** SQLite file path, or `':memory:'`. */
  path: string
  /** Physical clock in ms for the HLC (default `Date.now`). */
  now?: () => number
  /** Target size of a changeset chunk in bytes (default 8192). */
  chunkBytes?: number
  logger?: StoreLogger
}

/** The handle a `transaction(fn)` callback writes through. */
export interface Tx {
  /** Runs a write (or any) statement; returns rows affected. */
  run(sql: string, params?: Statement['params']): StatementResult & { lastInsertRowid: number | bigint }
  /** Runs a query inside the transaction and returns its rows as objects. */
  all(sql: string, params?: Statement['params']): Record<string, SqlValue>[]
}

/** An embedded multi-writer SQLite with cr-sqlite semantics. See the package README. */
export interface CrdtStore {
  readonly siteId: Uint8Array
  applySchema(sql: string | readonly string[]): SchemaChange
  transaction(statements: readonly Statement[]): TransactionResult
  transaction<T>(fn: (tx: Tx) => T): TransactionResult & { value: T }
  read(sql: string, params?: Statement['params']): QueryCursor
  schema(): SchemaInfo
  apply(changeset: Changeset): ApplyResult
  summary(): SyncSummary
  needs(remote: SyncSummary): SyncNeeds
  serve(needs: SyncNeeds): Iterable<Changeset>
  /**
   * Drops, from every version's row list, the rows that no longer hold any of its cells (writes do
   * a little of this each time; call it from a maintenance timer to finish the job).
   */
  compact(): { versions: number; keysDropped: number }
  /** Changes of one actor's versions `from..to` (inclusive) that are still current. */
  changes(actor: Uint8Array, from: number, to: number): Change[]
  syncStatus(): ActorStatus[]
  gapCount(): number
  onCommit(listener: (ev: CommitEvent) => void): () => void
  /**
   * Writes a consistent snapshot. By default the copy forgets this node's identity: this actor
   * becomes an ordinary peer in it, and a store opened on it creates a fresh site id, so a restored
   * node never reuses version numbers this node already sent. `keepIdentity` copies it as is.
   */
  backup(destPath: string, options?: AbortOptions & { progress?: (done: number, total: number) => void; keepIdentity?: boolean }): Promise<void>
  close(): void
}

const INTERNAL_DDL = `
CREATE TABLE IF NOT EXISTS __patina_sites (ordinal INTEGER PRIMARY KEY, site_id BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS __patina_heads (site INTEGER PRIMARY KEY, head INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS __patina_gaps (site INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, PRIMARY KEY (site, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_partials (site INTEGER NOT NULL, dbv INTEGER NOT NULL, last_seq INTEGER NOT NULL, ts INTEGER NOT NULL, seqs TEXT NOT NULL, PRIMARY KEY (site, dbv)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_buffer (site INTEGER NOT NULL, dbv INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (site, dbv, start, "end")) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_versions (site INTEGER NOT NULL, dbv INTEGER NOT NULL, ts INTEGER NOT NULL, last_seq INTEGER NOT NULL, rows BLOB NOT NULL, PRIMARY KEY (site, dbv)) WITHOUT ROWID;
`

/** The version lookup `serve()` uses (primary-key search). */
export const VERSION_SQL = 'SELECT ts, last_seq, rows FROM __patina_versions WHERE site = ? AND dbv = ?'
/** The version range scan `changes()` uses (primary-key range search). */
export const VERSION_RANGE_SQL = 'SELECT dbv, ts, last_seq, rows FROM __patina_versions WHERE site = ? AND dbv BETWEEN ? AND ? ORDER BY dbv'

/** Opens (or creates) a store. Throws `StoreOpenError` when the file cannot be used. */
export function openStore (init: StoreInit): CrdtStore {
  if (init == null || typeof init.path !== 'string') throw new StoreOpenError('openStore needs a path (a file or ":memory:")')
  let db: Db | undefined
  try {
    db = new Database(init.path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(INTERNAL_DDL)
    return setup(db, init)
  } catch (err) {
    try { db?.close() } catch { /* already unusable */ }
    throw new StoreOpenError(`cannot open store at ${init.path}: ${(err as Error).message}`, { cause: err })
  }
}

function setup (db: Db, init: StoreInit): CrdtStore {
  const memory = init.path === ':memory:' || init.path === ''
  const log = init.logger
  const chunkBytes = init.chunkBytes ?? 8192
  const clock: Hlc = hlc({ now: init.now ?? Date.now })

  let siteId: Uint8Array
  {
    const row = db.prepare('SELECT site_id FROM __patina_sites WHERE ordinal = 0').get() as { site_id: Buffer } | undefined
    if (row != null) siteId = new Uint8Array(row.site_id)
    else {
      siteId = newSiteId()
      db.prepare('INSERT INTO __patina_sites (ordinal, site_id) VALUES (0, ?)').run(Buffer.from(siteId))
    }
  }
  const siteHex = hex(siteId)

  // ---- local-write state read by the trigger UDFs
  let pending: Pending | undefined
  let syncBit = false

  // the last recorded row and its kind before that record, for patina_existed
  let lastRows: PendingRows | undefined
  let lastKey: unknown
  let lastPrev: number | undefined
  const record = (table: string, pk: readonly unknown[], kind: number): void => {
    const p = pending!
    let m = p.rows.get(table)
    if (m == null) { m = { single: new Map(), multi: new Map() }; p.rows.set(table, m) }
    lastRows = m
    const v = pk[0]
    if (pk.length === 1 && (typeof v !== 'object' || v === null)) {
      const prev = m.single.get(v)
      m.single.set(v, prev == null ? kind : mergeKind(prev, kind))
      lastKey = v
      lastPrev = prev
      return
    }
    const k = multiKey(pk)
    const prev = m.multi.get(k)
    if (prev == null) m.multi.set(k, { pk: [...pk] as SqlValue[], kind })
    else prev.kind = mergeKind(prev.kind, kind)
    lastKey = k
    lastPrev = prev?.kind
  }
  /** The last recorded insert replaced a live row: it is an update. */
  const replacedLive = (): void => {
    if (lastRows == null) return
    const kind = lastPrev == null ? 1 : mergeKind(lastPrev, 1)
    if (lastRows.single.has(lastKey)) lastRows.single.set(lastKey, kind)
    else { const e = lastRows.multi.get(lastKey as string); if (e != null) e.kind = kind }
  }
  const allocate = (count: number): number | bigint => {
    if (pending == null) throw new SqlError('writes to replicated tables must go through store.transaction()')
    const base = pending.seq
    if (base + count >= SEQ_SPAN) throw new TransactionTooLargeError(`a transaction may write at most ${SEQ_SPAN - 1} cells`)
    pending.seq += count
    pending.lastBase = base
    return stampOf(pending.dbv, base)
  }
  // decoded version row lists for the crsql_changes view, most recent last (each view arm walks
  // the same versions, so a small cache saves decoding a list once per table and column)
  const keyCache = new Map<string, Map<string, SqlValue[][]>>()
  const keysOf = (site: unknown, dbv: unknown, rows: Buffer): Map<string, SqlValue[][]> => {
    const k = `${String(site)}:${String(dbv)}`
    let m = keyCache.get(k)
    if (m == null) {
      m = new Map(unpackInternal(rows) as RowList)
      if (keyCache.size >= 512) keyCache.delete(keyCache.keys().next().value!)
      keyCache.set(k, m)
    }
    return m
  }
  const registerReadFns = (c: Db): void => {
    c.table('patina_keys', {
      columns: Array.from({ length: MAX_KEY_COLUMNS }, (_, i) => `k${i}`),
      parameters: ['site', 'dbv', 'rows', 'tbl'],
      * rows (site: unknown, dbv: unknown, rows: unknown, tbl: unknown) {
        if (!Buffer.isBuffer(rows) || typeof tbl !== 'string') return
        for (const key of keysOf(site, dbv, rows).get(tbl) ?? []) {
          const out = new Array<SqlValue>(MAX_KEY_COLUMNS).fill(null)
          for (let i = 0; i < key.length && i < MAX_KEY_COLUMNS; i++) out[i] = toBytes(key[i]!)
          yield out
        }
      }
    })
    c.function('crsql_site_id', { deterministic: true }, () => Buffer.from(siteId))
    c.function('crsql_db_version', { deterministic: false }, () => localBook().head)
    c.function('crsql_pack_columns', { varargs: true, deterministic: true, safeIntegers: true }, (...vals: unknown[]) => Buffer.from(packValues(vals as SqlValue[], true)))
  }
  const sqFn = (n: unknown, kind: unknown, table: unknown, ...pk: unknown[]): number | bigint | null => {
    if (syncBit) return null
    const count = Number(n)
    if (count === 0) return null
    const s = allocate(count)
    record(table as string, pk, Number(kind))
    return s
  }
  const lastFn = (kind: unknown, table: unknown, ...pk: unknown[]): number | bigint | null => {
    if (syncBit || pending == null) return null
    record(table as string, pk, Number(kind))
    return stampOf(pending.dbv, pending.lastBase)
  }
  db.function('patina_sq', { varargs: true, deterministic: false, safeIntegers: true }, sqFn)
  db.function('patina_sqn', { varargs: true, deterministic: false }, sqFn)
  db.function('patina_lastn', { varargs: true, deterministic: false }, lastFn)
  db.function('patina_existed', { deterministic: false }, (alive: unknown, v: unknown) => {
    if (alive === 1 && !syncBit && pending != null) replacedLive()
    return v as number | null
  })
  db.function('patina_stamp', { deterministic: false }, () => pending == null ? null : stampOf(pending.dbv, pending.lastBase))
  db.function('patina_last', { varargs: true, deterministic: false, safeIntegers: true }, lastFn)
  registerReadFns(db)

  // ---- sites and bookkeeping
  const sitesByOrd = new Map<number, Uint8Array>()
  const ordByHex = new Map<string, number>()
  for (const r of db.prepare('SELECT ordinal, site_id FROM __patina_sites').all() as { ordinal: number; site_id: Buffer }[]) {
    sitesByOrd.set(r.ordinal, new Uint8Array(r.site_id))
    ordByHex.set(hex(r.site_id), r.ordinal)
  }
  /** Decoded chunks of partial versions buffered since open, by `ordinal:version`. */
  const chunkCache = new Map<string, Changeset[]>()
  let chunkCacheSize = 0
  const insertSite = db.prepare('INSERT INTO __patina_sites (site_id) VALUES (?) RETURNING ordinal')
  // sites added by the running transaction: forgotten again if it rolls back
  let newSites: string[] = []
  const ensureSite = (id: Uint8Array): number => {
    const h = hex(id)
    let o = ordByHex.get(h)
    if (o == null) {
      o = (insertSite.get(Buffer.from(id)) as { ordinal: number }).ordinal
      ordByHex.set(h, o)
      sitesByOrd.set(o, id)
      newSites.push(h)
    }
    return o
  }
  const forgetNewSites = (): void => {
    for (const h of newSites) {
      const o = ordByHex.get(h)
      ordByHex.delete(h)
      if (o != null) sitesByOrd.delete(o)
    }
    newSites = []
  }
  const siteIdOf = (ord: number): Uint8Array => sitesByOrd.get(ord) ?? new Uint8Array(16)

  const bs: BookStore = bookStore(db)
  const books = new Map<string, Book>()
  for (const b of bs.load()) {
    const id = sitesByOrd.get(b.ord)
    if (id == null) continue
    books.set(hex(id), { ...b, siteId: id, hex: hex(id) })
  }
  if (!books.has(siteHex)) books.set(siteHex, { ord: 0, siteId, hex: siteHex, head: 0, gaps: [], partials: new Map() })
  /** This actor's book. Its own versions can also arrive from peers (after a restore from backup). */
  const localBook = (): Book => books.get(siteHex)!

  // ---- tables
  const tables = new Map<string, TableRuntime>()
  const loadTables = (): void => {
    tables.clear()
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_\\_crsql\\_clock' ESCAPE '\\' ORDER BY rowid").all() as { name: string }[]
    for (const { name } of names) {
      const base = name.slice(0, -'__crsql_clock'.length)
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(base)
      if (exists == null) continue
      tables.set(base, tableRuntime(db, crrTable(db, base)))
    }
  }
  loadTables()

  const st = {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    putVersion: db.prepare('INSERT OR REPLACE INTO __patina_versions (site, dbv, ts, last_seq, rows) VALUES (?, ?, ?, ?, ?)'),
    getVersion: db.prepare(VERSION_SQL).safeIntegers(true),
    versionRange: db.prepare(VERSION_RANGE_SQL).safeIntegers(true),
    compactPage: db.prepare('SELECT site, dbv, rows FROM __patina_versions WHERE (site, dbv) > (?, ?) AND length(rows) > 1 ORDER BY site, dbv LIMIT ?'),
    setRows: db.prepare('UPDATE __patina_versions SET rows = ? WHERE site = ? AND dbv = ?'),
    versionPage: db.prepare('SELECT dbv FROM __patina_versions WHERE site = ? AND dbv BETWEEN ? AND ? ORDER BY dbv LIMIT 256').safeIntegers(true),
    putBuffer: db.prepare('INSERT OR IGNORE INTO __patina_buffer (site, dbv, start, "end", data) VALUES (?, ?, ?, ?, ?)'),
    getBuffer: db.prepare('SELECT data FROM __patina_buffer WHERE site = ? AND dbv = ? ORDER BY start'),
    delBuffer: db.prepare('DELETE FROM __patina_buffer WHERE site = ? AND dbv = ?')
  }
  const reader: Db = memory ? db : new Database(init.path, { readonly: true })
  if (reader !== db) {
    registerReadFns(reader)
    // preparing a write on the reader compiles the CRR triggers: give their functions inert stubs
    for (const f of ['patina_sq', 'patina_sqn', 'patina_last', 'patina_lastn', 'patina_stamp', 'patina_existed']) {
      reader.function(f, { varargs: true, deterministic: false }, () => null)
    }
  }

  const listeners = new Set<(ev: CommitEvent) => void>()
  let closed = false
  const alive = (): void => { if (closed) throw new StoreClosedError() }

  const emit = (source: 'local' | 'remote', touched: Iterable<RowTouch>): void => {
    if (listeners.size === 0) return
    const changes: RowChange[] = []
    for (const t of touched) {
      if (t.kind == null) continue
      const rt = tables.get(t.table)
      const pk = rt != null ? exactKey(rt, t.pk) : t.pk
      changes.push({ table: t.table, pk: packValues(pk, true), pkValues: pk.map(looseValue), kind: t.kind })
    }
    if (changes.length === 0) return
    const ev: CommitEvent = { source, changes }
    for (const l of listeners) {
      try { l(ev) } catch (err) { log?.error?.({ err }, 'commit listener failed') }
    }
  }

  const rowListOf = (p: Pending): RowList => [...p.rows].map(([t, m]) => [t, [...[...m.single.keys()].map(k => [k as SqlValue]), ...[...m.multi.values()].map(e => e.pk)]])

  // Row lists of old versions shrink as later writes take their cells (a fully overwritten version
  // keeps only its number, ts and last seq). Each write checks a few older versions, round robin,
  // inside its own transaction, within a budget of keys; lists too big for the budget wait for
  // `compact()`. So storage follows the data rather than the history.
  const COMPACT_KEYS_PER_WRITE = 2048
  let compactAfter: [number, number] = [-1, 0]
  const compactVersion = (r: { site: number; dbv: number; rows: Buffer }): number => {
    const list = unpackInternal(r.rows) as RowList
    const kept = ownedRows(tables, list, r.site, r.dbv)
    const before = list.reduce((n, [, k]) => n + k.length, 0)
    const after = kept.reduce((n, [, k]) => n + k.length, 0)
    if (after < before) st.setRows.run(packInternal(kept), r.site, r.dbv)
    return before - after
  }
  const compactStep = (): void => {
    try {
      let budget = COMPACT_KEYS_PER_WRITE
      const page = st.compactPage.all(compactAfter[0], compactAfter[1], 8) as { site: number; dbv: number; rows: Buffer }[]
      for (const r of page) {
        compactAfter = [r.site, r.dbv]
        // a msgpack key costs at least a byte: cheap upper bound before decoding
        if (r.rows.length > budget * 16) continue
        budget -= r.rows.length / 16
        compactVersion(r)
        if (budget <= 0) break
      }
      if (page.length < 8) compactAfter = [-1, 0]
    } catch (err) {
      log?.warn?.({ err }, 'row-list compaction step failed')
    }
  }

  /** Runs `body` in one local write transaction; assigns a version when a CRR row changed. */
  const notNested = (): void => {
    if (db.inTransaction) throw new SqlError('store calls cannot nest inside a running transaction')
  }
  const runLocal = <T>(body: () => T): { version: number | null; value: T; touched: RowTouch[] } => {
    alive()
    notNested()
    st.begin.run()
    const local = localBook()
    if (local.head >= MAX_VERSION) { st.rollback.run(); throw new TransactionTooLargeError('this actor has used every version number') }
    pending = { dbv: local.head + 1, seq: 0, lastBase: 0, rows: new Map() }
    try {
      const value = body()
      const p = pending
      let version: number | null = null
      if (p.seq > 0) {
        version = p.dbv
        compactStep()
        st.putVersion.run(0, version, BigInt.asIntN(64, clock.now()), p.seq - 1, packInternal(rowListOf(p)))
        const next = cloneBook(local)
        next.head = version
        bs.save(next, local.gaps)
        st.commit.run()
        books.set(siteHex, next)
      } else {
        st.commit.run()
      }
      pending = undefined
      const touched: RowTouch[] = []
      if (listeners.size > 0) for (const [table, m] of p.rows) for (const r of pendingEntries(m)) touched.push({ table, pk: r.pk, kind: r.kind < 3 ? KINDS[r.kind] : undefined })
      return { version, value, touched }
    } catch (err) {
      pending = undefined
      if (db.inTransaction) st.rollback.run()
      throw err
    }
  }

  const readVersion = (ord: number, version: number): { ts: bigint; lastSeq: number; rows: RowList } | undefined => {
    const r = st.getVersion.get(ord, version) as { ts: bigint; last_seq: bigint; rows: Buffer } | undefined
    if (r == null) return undefined
    return { ts: BigInt.asUintN(64, r.ts), lastSeq: Number(r.last_seq), rows: unpackInternal(r.rows) as RowList }
  }

  const versionChangesets = (ord: number, actor: Uint8Array, version: number): Changeset[] => {
    const v = readVersion(ord, version)
    if (v == null) return []
    return chunkVersion(actor, version, v.lastSeq, v.ts, versionChanges(tables, v.rows, ord, version, actor), chunkBytes)
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
      if (!WRITE_HEAD.test(sql)) throw new SqlError(`only INSERT, UPDATE, DELETE, REPLACE and SELECT statements are allowed in a transaction; schema changes go through applySchema (in: ${sql.slice(0, 200)})`)
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

  // ---- schema
  const setupCrr = (name: string, backfill: boolean): void => {
    const meta = crrTable(db, name)
    db.exec(clockTableSql(meta))
    const old = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND substr(name, 1, length(?)) = ?").all(name, name + '__crsql_', name + '__crsql_') as { name: string }[]
    for (const t of [...triggerNames(name), ...old.map(o => o.name)]) db.exec(`DROP TRIGGER IF EXISTS ${q(t)}`)
    for (const sql of triggersSql(meta)) db.exec(sql)
    if (!backfill) return
    const rt = tableRuntime(db, meta)
    const pkSel = db.prepare(`SELECT ${meta.pks.map(p => q(p.name)).join(', ')} FROM ${q(name)}`).raw(true).safeIntegers(true)
    const n = meta.cols.length
    for (const pk of pkSel.all() as SqlValue[][]) {
      allocate(n + 1)
      record(name, pk, 0)
      const base = pending!.seq - n - 1
      const dbv = pending!.dbv
      const cells: (number | null)[] = []
      for (let i = 0; i < n; i++) cells.push(1, 0, dbv, base + 1 + i)
      rt.putClock.run(...pk, 1, n === 0 ? 0 : null, n === 0 ? dbv : null, n === 0 ? base : null, ...cells)
    }
  }

  const rebuildView = (): void => {
    db.exec('DROP VIEW IF EXISTS crsql_changes')
    db.exec(changesViewSql([...tables.values()].map(t => t.meta)))
  }
  rebuildView()

  function applySchema (sql: string | readonly string[]): SchemaChange {
    alive()
    const plan = planSchema(db, sql, name => tables.has(name))
    const change: SchemaChange = {
      createdTables: plan.createTables.map(t => t.name),
      addedColumns: plan.addColumns.map(a => ({ table: a.table, column: a.column.name })),
      createdIndexes: plan.createIndexes.map(i => i.name),
      droppedIndexes: plan.dropIndexes,
      unchanged: false
    }
    if (plan.createTables.length + plan.importTables.length + plan.addColumns.length + plan.createIndexes.length + plan.dropIndexes.length === 0) {
      return { ...change, unchanged: true }
    }
    const wrap = (what: string, fn: () => void): void => {
      try { fn() } catch (err) {
        if ((err as Error).name === 'SchemaChangeError') throw err
        throw new SchemaChangeError(`${what}: ${(err as Error).message}`, { cause: err, statement: what })
      }
    }
    try {
      runLocal(() => {
        for (const i of plan.dropIndexes) wrap(`DROP INDEX ${i}`, () => db.exec(`DROP INDEX IF EXISTS ${q(i)}`))
        for (const t of plan.createTables) wrap(t.sql, () => { db.exec(t.sql); setupCrr(t.name, false) })
        for (const t of plan.importTables) wrap(`import of table ${t}`, () => setupCrr(t, true))
        const altered = new Set<string>()
        for (const a of plan.addColumns) {
          const ddl = `ALTER TABLE ${q(a.table)} ADD COLUMN ${a.ddl}`
          wrap(ddl, () => {
            db.exec(ddl)
            const rt = tables.get(a.table)
            if (rt != null) for (const s of addClockColumnSql(rt.meta, a.column.name)) db.exec(s)
          })
          altered.add(a.table)
        }
        for (const t of altered) wrap(`triggers of ${t}`, () => setupCrr(t, false))
        for (const i of plan.createIndexes) wrap(i.sql, () => db.exec(i.sql))
        loadTables()
        rebuildView()
        stmtCache.clear()
      })
    } catch (err) {
      loadTables()
      throw err
    }
    return change
  }

  // ---- merge
  function apply (cs: Changeset): ApplyResult {
    alive()
    if (cs == null || !(cs.actor instanceof Uint8Array) || cs.actor.length !== 16) throw new MalformedChangesetError('changeset actor must be 16 bytes')
    if (!Number.isSafeInteger(cs.version) || cs.version < 1 || cs.version > MAX_VERSION) throw new MalformedChangesetError(`changeset version must be an integer in 1..${MAX_VERSION}`)
    if (!Number.isSafeInteger(cs.lastSeq) || cs.lastSeq > MAX_SEQ) throw new MalformedChangesetError(`changeset last seq must be an integer <= ${MAX_SEQ}`)
    if (!Array.isArray(cs.seqs) || cs.seqs.length !== 2 || !Number.isSafeInteger(cs.seqs[0]) || !Number.isSafeInteger(cs.seqs[1]) || cs.seqs[0] < 0 || cs.seqs[0] > cs.seqs[1] || !Number.isSafeInteger(cs.lastSeq) || cs.seqs[1] > cs.lastSeq) {
      throw new MalformedChangesetError('changeset seq range must satisfy 0 <= start <= end <= lastSeq')
    }
    if (!Array.isArray(cs.changes)) throw new MalformedChangesetError('changeset changes must be a list')
    if (typeof cs.ts !== 'bigint') throw new MalformedChangesetError('changeset ts must be a bigint')
    const actorHex = hex(cs.actor)
    const base: Omit<ApplyResult, 'status'> = { actor: actorHex, version: cs.version, changed: 0 }
    // own versions we hold are ignored; newer ones (a restore lost them) are taken back like any peer's
    if (actorHex === siteHex && isKnown(localBook(), cs.version)) return { ...base, status: 'own' }
    notNested()
    for (const c of cs.changes) validateChange(c, cs, actorHex)
    const cur = books.get(actorHex)
    if (cur != null && isKnown(cur, cs.version)) return { ...base, status: 'duplicate' }
    const partial = cur?.partials.get(cs.version)
    if (partial != null && removeRangesFrom([cs.seqs], partial.seqs).length === 0) return { ...base, status: 'duplicate' }
    // validate before any write: unknown tables/columns reject the whole version
    const groups = groupChanges(tables, cs.changes)
    const complete = partial == null && cs.seqs[0] === 0 && cs.seqs[1] === cs.lastSeq
    let status: ApplyResult['status'] = 'buffered'
    let changed = 0
    let touched: RowTouch[] = []
    st.begin.run()
    newSites = []
    try {
      const ord = ensureSite(cs.actor)
      const book: Book = cur != null ? cloneBook(cur) : { ord, siteId: cs.actor, hex: actorHex, head: 0, gaps: [], partials: new Map() }
      let all: { groups: typeof groups; ts: bigint } | undefined
      if (complete) all = { groups, ts: cs.ts }
      else {
        const p = book.partials.get(cs.version) ?? { seqs: [], lastSeq: cs.lastSeq, ts: cs.ts }
        if (p.lastSeq !== cs.lastSeq) throw new MalformedChangesetError(`chunk says last seq ${cs.lastSeq}, earlier chunks said ${p.lastSeq}`)
        st.putBuffer.run(ord, cs.version, cs.seqs[0], cs.seqs[1], encodeChangeset(cs))
        p.seqs = addRange(p.seqs, cs.seqs[0], cs.seqs[1])
        book.partials.set(cs.version, p)
        if (p.seqs.length === 1 && p.seqs[0]![0] === 0 && p.seqs[0]![1] === p.lastSeq) {
          // chunks buffered by this process are kept decoded; after a restart read them back
          const cached = chunkCache.get(`${ord}:${cs.version}`)
          let have: Range[] = []
          for (const ch of cached ?? []) have = addRange(have, ch.seqs[0], ch.seqs[1])
          have = addRange(have, cs.seqs[0], cs.seqs[1])
          const complete = have.length === 1 && have[0]![0] === 0 && have[0]![1] === p.lastSeq
          const chunks = complete ? [...(cached ?? []), cs] : (st.getBuffer.all(ord, cs.version) as { data: Buffer }[]).map(r => decodeChangeset(r.data))
          const seen = new Set<number>()
          const changes: Change[] = []
          for (const ch of chunks) for (const c of ch.changes) if (!seen.has(c.seq)) { seen.add(c.seq); changes.push(c) }
          all = { groups: groupChanges(tables, changes), ts: p.ts }
          st.delBuffer.run(ord, cs.version)
        } else {
          markPartial(book, cs.version)
        }
      }
      if (all != null) {
        syncBit = true
        try {
          const r = mergeGroups(all.groups, { ord, siteId: cs.actor, version: cs.version }, siteIdOf)
          changed = r.changed
          touched = r.touched
        } catch (err) {
          // e.g. a value a STRICT column refuses: the version cannot apply here, nothing is kept
          if ((err as Error).name === 'SqliteError' || err instanceof TypeError || err instanceof RangeError) {
            throw new MalformedChangesetError(`version ${cs.version} of ${actorHex} does not fit the local tables: ${(err as Error).message}`, { cause: err })
          }
          throw err
        } finally { syncBit = false }
        const rows = new Map<string, SqlValue[][]>()
        for (const t of touched) {
          let l = rows.get(t.table)
          if (l == null) { l = []; rows.set(t.table, l) }
          l.push(t.pk)
        }
        st.putVersion.run(ord, cs.version, BigInt.asIntN(64, all.ts), cs.lastSeq, packInternal([...rows]))
        markKnown(book, cs.version)
        status = changed > 0 ? 'applied' : 'cleared'
      }
      bs.savePartial(book, cs.version)
      bs.save(book, cur?.gaps ?? [])
      if (all != null) compactStep()
      st.commit.run()
      newSites = []
      books.set(actorHex, book)
      const ck = `${ord}:${cs.version}`
      if (all == null) {
        // bounded: past the cap, completion simply reads the buffer table
        if (chunkCacheSize >= 20_000) { chunkCache.clear(); chunkCacheSize = 0 }
        const l = chunkCache.get(ck) ?? []
        l.push(cs)
        chunkCacheSize++
        chunkCache.set(ck, l)
      } else {
        chunkCacheSize -= chunkCache.get(ck)?.length ?? 0
        chunkCache.delete(ck)
      }
    } catch (err) {
      if (db.inTransaction) st.rollback.run()
      forgetNewSites()
      throw err
    }
    if (!clock.update(cs.ts)) log?.debug?.({ actor: actorHex, version: cs.version }, 'remote timestamp too far ahead; clock not moved')
    if (status !== 'buffered') emit('remote', touched)
    return { ...base, status, changed }
  }

  // ---- sync
  function summary (): SyncSummary {
    alive()
    return summarize(books.values())
  }

  function needs (remote: SyncSummary): SyncNeeds {
    alive()
    return computeNeeds(books, remote)
  }

  function * serveGen (req: SyncNeeds): Generator<Changeset> {
    for (const a of req.actors) {
      alive()
      const h = hex(a.actor)
      const book = books.get(h)
      if (book == null) continue
      const emitVersion = function * (v: number, want?: Range[]): Generator<Changeset> {
        alive()
        const overlaps = (cs: Changeset): boolean => want == null || intersect([cs.seqs], want).length > 0
        if (isKnown(book, v)) {
          for (const cs of versionChangesets(book.ord, book.siteId, v)) if (overlaps(cs)) yield cs
        } else if (book.partials.has(v)) {
          for (const r of st.getBuffer.all(book.ord, v) as { data: Buffer }[]) {
            const cs = decodeChangeset(r.data)
            if (overlaps(cs)) yield cs
          }
        }
      }
      // walk only versions held: known ones through the versions index, partial ones from the buffer
      const known = removeRangesFrom([[1, book.head]], book.gaps)
      const wantFull = normalize(a.full)
      for (const [from, to] of intersect(wantFull, known)) {
        let next = from
        while (next <= to) {
          const page = st.versionPage.all(book.ord, next, to) as { dbv: bigint }[]
          if (page.length === 0) break
          for (const r of page) yield * emitVersion(Number(r.dbv))
          next = Number(page[page.length - 1]!.dbv) + 1
        }
      }
      for (const v of [...book.partials.keys()].sort((x, y) => x - y)) {
        if (contains(wantFull, v)) yield * emitVersion(v)
      }
      for (const p of a.partial) yield * emitVersion(p.version, normalize(p.seqs))
    }
  }

  function changes (actor: Uint8Array, from: number, to: number): Change[] {
    alive()
    const book = books.get(hex(actor))
    if (book == null) return []
    const out: Change[] = []
    for (const r of st.versionRange.iterate(book.ord, from, to) as IterableIterator<{ dbv: bigint; rows: Buffer }>) {
      for (const c of versionChanges(tables, unpackInternal(r.rows) as RowList, book.ord, Number(r.dbv), book.siteId)) out.push(c)
    }
    return out
  }

  // ---- reads
  function read (sql: string, params?: Statement['params']): QueryCursor {
    alive()
    let stmt: DbStatement
    try { stmt = reader.prepare(sql) } catch (err) { throw sqlError(err, sql) }
    if (!stmt.readonly || !stmt.reader) throw new StatementNotReadonlyError(`statement could write or returns no rows: ${sql.slice(0, 200)}`)
    const columns = stmt.columns().map(c => ({ name: c.name, type: c.type }))
    stmt.raw(true).safeIntegers(true)
    const conv = (row: SqlValue[]): SqlValue[] => { for (let i = 0; i < row.length; i++) row[i] = looseValue(row[i]!); return row }
    let it: IterableIterator<SqlValue[]>
    try {
      if (memory) {
        // one connection: materialise so writes are not blocked by an open cursor
        it = (stmt.all(...bindArgs(params)) as SqlValue[][]).map(conv)[Symbol.iterator]()
      } else {
        const inner = stmt.iterate(...bindArgs(params)) as IterableIterator<SqlValue[]>
        it = (function * () { for (const r of inner) yield conv(r) })()
        const ret = it.return?.bind(it)
        it.return = (v?: unknown) => { inner.return?.(); return ret != null ? ret(v) : { done: true, value: undefined } }
      }
    } catch (err) { throw sqlError(err, sql) }
    return { columns, rows: it, close () { it.return?.() } }
  }

  function schema (): SchemaInfo {
    alive()
    const rows = db.prepare("SELECT type, name, tbl_name AS tbl, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_patina\\_%' ESCAPE '\\' AND name NOT LIKE '%\\_\\_crsql\\_%' ESCAPE '\\' ORDER BY rowid").all() as { type: string; name: string; tbl: string; sql: string }[]
    const userTables = new Set(rows.filter(r => r.type === 'table').map(r => r.name))
    return {
      tables: rows.filter(r => r.type === 'table').map(r => ({
        name: r.name,
        sql: r.sql,
        columns: tableColumns(db, r.name).map(c => ({ name: c.name, type: c.type, notNull: c.notNull, pk: c.pk, defaultValue: c.defaultValue }))
      })),
      indexes: rows.filter(r => r.type === 'index' && userTables.has(r.tbl)).map(r => ({ name: r.name, table: r.tbl, sql: r.sql }))
    }
  }

  return {
    siteId,
    applySchema,
    transaction: transaction as CrdtStore['transaction'],
    read,
    schema,
    apply,
    summary,
    needs,
    serve (req) { alive(); return serveGen(req) },
    changes,
    compact () {
      alive()
      notNested()
      let versions = 0
      let keysDropped = 0
      st.begin.run()
      try {
        let after: [number, number] = [-1, 0]
        for (;;) {
          const page = st.compactPage.all(after[0], after[1], 64) as { site: number; dbv: number; rows: Buffer }[]
          for (const r of page) {
            const dropped = compactVersion(r)
            if (dropped > 0) { versions++; keysDropped += dropped }
            after = [r.site, r.dbv]
          }
          if (page.length < 64) break
        }
        st.commit.run()
      } catch (err) {
        if (db.inTransaction) st.rollback.run()
        throw err
      }
      return { versions, keysDropped }
    },
    syncStatus () {
      alive()
      return [...books.values()].filter(b => b.head > 0 || b.partials.size > 0).map(b => ({
        actor: b.hex,
        head: b.head,
        gaps: b.gaps.map(r => [r[0], r[1]] as Range),
        partials: [...b.partials].sort((x, y) => x[0] - y[0]).map(([version, p]) => ({ version, seqs: p.seqs.map(r => [r[0], r[1]] as Range), lastSeq: p.lastSeq }))
      }))
    },
    gapCount () {
      alive()
      let n = 0
      for (const b of books.values()) n += countRanges(b.gaps)
      return n
    },
    onCommit (l) { listeners.add(l); return () => { listeners.delete(l) } },
    async backup (dest, options) {
      alive()
      const signal = options?.signal
      if (signal?.aborted === true) throw new AbortError()
      const r = await db.backup(dest, {
        progress ({ totalPages, remainingPages }) {
          if (signal?.aborted === true) throw new AbortError()
          options?.progress?.(totalPages - remainingPages, totalPages)
          return 200
        }
      })
      if (aborted(signal)) throw new AbortError()
      if (options?.keepIdentity !== true) forgetIdentity(dest, [...tables.values()].map(t => t.meta))
      options?.progress?.(r.totalPages, r.totalPages)
    },
    close () {
      if (closed) return
      closed = true
      if (reader !== db) reader.close()
      db.close()
    }
  }
}

function aborted (signal: AbortSignal | undefined): boolean { return signal?.aborted === true }

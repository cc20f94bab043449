/**
 * A thin harness around the real cr-sqlite (the `@vlcn.io/crsqlite-wasm` 0.16.0 build, SQLite 3.44)
 * used as the reference in differential tests. It drives wa-sqlite's low-level API directly so
 * every value keeps its storage class (INTEGER vs REAL) in both directions.
 *
 * Upstream numbers `db_version` per connection (a Lamport clock), Patina per actor, so callers
 * compare table contents and per-cell winners, never db_version.
 */
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import * as SQLite from '@vlcn.io/wa-sqlite'
import { type Typed, NULL, blob, canon, hex, int, real, text } from './typed-value.ts'

/** One row of `crsql_changes` as the oracle reports it. */
export interface OracleChange {
  table: string
  pk: Uint8Array
  cid: string
  val: Typed
  colVersion: bigint
  dbVersion: bigint
  siteId: Uint8Array
  cl: bigint
  seq: bigint
}

/** The winner of one cell (`cid` = column name) or a row's causal length (`cid` = '-1'). */
export interface CellState {
  table: string
  /** Hex of the packed primary key. */
  pk: string
  cid: string
  /** `canon()` of the value; `n` for sentinel rows. */
  val: string
  colVersion: bigint
  cl: bigint
  /** Hex of the winning site id. */
  site: string
}

/** A cr-sqlite database in memory. */
export interface OracleDb {
  /** The 16-byte site id this database stamps on local writes. */
  readonly siteId: Uint8Array
  /** Runs one or more statements (no result); `params` bind to a single statement. */
  exec(sql: string, params?: readonly Typed[]): Promise<void>
  /** Runs one statement and returns its rows, every value tagged with its storage class. */
  query(sql: string, params?: readonly Typed[]): Promise<Typed[][]>
  /** `crsql_changes` rows with `db_version > since`, optionally excluding one site's rows. */
  changesSince(since: number | bigint, options?: { excludeSite?: Uint8Array }): Promise<OracleChange[]>
  /** Inserts change rows into `crsql_changes` in one transaction (cr-sqlite merges them). */
  merge(rows: readonly OracleChange[]): Promise<void>
  /** Every row of `table` ordered by its primary key, values as `canon()` strings. */
  selectAll(table: string): Promise<string[][]>
  /** Per-cell winners of every CRR, sorted by table, pk, cid. */
  cells(): Promise<CellState[]>
  /** Closes the database. */
  close(): Promise<void>
}

/** Options for {@link createOracleDb}. */
export interface OracleDbInit {
  /** Replace the random site id with this one (16 bytes), e.g. to mirror a Patina store's actor. */
  siteId?: Uint8Array
}

type Api = ReturnType<typeof SQLite.Factory>

/** The few raw Emscripten exports the harness needs besides wa-sqlite's wrappers. */
interface RawModule {
  _sqlite3_malloc(n: number): number
  _sqlite3_bind_blob(stmt: number, i: number, ptr: number, n: number, destructor: number): number
  _getSqliteFree(): number
}

let apiPromise: Promise<Api> | undefined
let raw: RawModule | undefined
// wa-sqlite's asyncified build allows one call in flight per module: serialise everything.
let queue: Promise<unknown> = Promise.resolve()
function serial<T> (fn: () => Promise<T>): Promise<T> {
  const next = queue.then(fn, fn)
  queue = next.catch(() => undefined)
  return next
}

async function loadApi (): Promise<Api> {
  // The package's own loader fetches the .wasm and registers an IndexedDB VFS; neither exists in
  // Node, so instantiate the Emscripten module directly with the bytes.
  const require = createRequire(import.meta.url)
  const wasmPath = require.resolve('@vlcn.io/crsqlite-wasm/crsqlite.wasm')
  const factoryUrl = pathToFileURL(join(dirname(wasmPath), 'crsqlite.mjs')).href
  const mod = (await import(factoryUrl)) as { default: (arg: { wasmBinary: Uint8Array }) => Promise<unknown> }
  const wasmModule = await mod.default({ wasmBinary: readFileSync(wasmPath) })
  raw = wasmModule as RawModule
  return SQLite.Factory(wasmModule)
}

function bindTyped (api: Api, stmt: number, i: number, v: Typed): void {
  switch (v.type) {
    case 'null': api.bind_null(stmt, i); break
    case 'integer': api.bind_int64(stmt, i, v.value); break
    case 'real': api.bind_double(stmt, i, v.value); break
    case 'blob':
      if (v.value.length === 0 && raw !== undefined) {
        // wa-sqlite mallocs byteLength bytes; malloc(0) is NULL and SQLite binds a NULL pointer as
        // SQL NULL, so an empty BLOB needs a real (1-byte) buffer with length 0.
        const rc = raw._sqlite3_bind_blob(stmt, i, raw._sqlite3_malloc(1), 0, raw._getSqliteFree())
        if (rc !== 0) throw new Error(`sqlite3_bind_blob failed (${rc})`)
      } else {
        api.bind_blob(stmt, i, v.value)
      }
      break
    case 'text':
      // wa-sqlite binds text NUL-terminated: an embedded U+0000 would silently truncate it.
      if (v.value.includes('\0')) throw new RangeError('the oracle cannot bind TEXT containing U+0000')
      api.bind_text(stmt, i, v.value)
      break
  }
}

function readTyped (api: Api, stmt: number, i: number): Typed {
  switch (api.column_type(stmt, i)) {
    case SQLite.SQLITE_NULL: return NULL
    case SQLite.SQLITE_INTEGER: return int(api.column_int64(stmt, i))
    case SQLite.SQLITE_FLOAT: return real(api.column_double(stmt, i))
    case SQLite.SQLITE_TEXT: return text(api.column_text(stmt, i))
    case SQLite.SQLITE_BLOB: return blob(api.column_blob(stmt, i))
    default: throw new TypeError('unknown column type')
  }
}

const asBig = (v: Typed | undefined): bigint => {
  if (v?.type === 'integer') return v.value
  if (v?.type === 'null') return 0n
  throw new TypeError(`expected INTEGER, got ${v === undefined ? 'nothing' : canon(v)}`)
}
const asBytes = (v: Typed | undefined): Uint8Array => {
  if (v?.type === 'blob') return v.value
  throw new TypeError(`expected BLOB, got ${v === undefined ? 'nothing' : canon(v)}`)
}
const asText = (v: Typed | undefined): string => {
  if (v?.type === 'text') return v.value
  throw new TypeError(`expected TEXT, got ${v === undefined ? 'nothing' : canon(v)}`)
}

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** Opens a fresh `:memory:` cr-sqlite database. */
export async function createOracleDb (init: OracleDbInit = {}): Promise<OracleDb> {
  apiPromise ??= loadApi()
  const api = await apiPromise
  const handle = await serial(() => api.open_v2(':memory:'))

  const run = (sql: string, params?: readonly Typed[]): Promise<Typed[][]> => serial(async () => {
    const out: Typed[][] = []
    for await (const stmt of api.statements(handle, sql)) {
      if (params !== undefined) params.forEach((p, i) => { bindTyped(api, stmt, i + 1, p) })
      while (await api.step(stmt) === SQLite.SQLITE_ROW) {
        const n = api.data_count(stmt)
        const row: Typed[] = []
        for (let i = 0; i < n; i++) row.push(readTyped(api, stmt, i))
        out.push(row)
      }
    }
    return out
  })

  if (init.siteId !== undefined) {
    if (init.siteId.length !== 16) throw new RangeError('site id must be 16 bytes')
    // crsql_changes and merges resolve ordinal 0 through this table, so this re-labels local writes.
    await run('UPDATE crsql_site_id SET site_id = ? WHERE ordinal = 0', [blob(init.siteId)])
  }
  const siteRows = await run('SELECT site_id FROM crsql_site_id WHERE ordinal = 0')
  const siteId = asBytes(siteRows[0]?.[0])

  const changesSince = async (since: number | bigint, options: { excludeSite?: Uint8Array } = {}): Promise<OracleChange[]> => {
    const params: Typed[] = [int(BigInt(since))]
    let sql = 'SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes WHERE db_version > ?'
    if (options.excludeSite !== undefined) {
      sql += ' AND site_id IS NOT ?'
      params.push(blob(options.excludeSite))
    }
    sql += ' ORDER BY db_version, seq'
    const rows = await run(sql, params)
    return rows.map(r => ({
      table: asText(r[0]),
      pk: asBytes(r[1]),
      cid: asText(r[2]),
      val: r[3] ?? NULL,
      colVersion: asBig(r[4]),
      dbVersion: asBig(r[5]),
      siteId: asBytes(r[6]),
      cl: asBig(r[7]),
      seq: asBig(r[8])
    }))
  }

  const merge = (rows: readonly OracleChange[]): Promise<void> => serial(async () => {
    const exec1 = async (sql: string): Promise<void> => {
      for await (const stmt of api.statements(handle, sql)) { while (await api.step(stmt) === SQLite.SQLITE_ROW) { /* drain */ } }
    }
    await exec1('BEGIN')
    try {
      for await (const stmt of api.statements(handle,
        'INSERT INTO crsql_changes ("table", pk, cid, val, col_version, db_version, site_id, cl, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')) {
        for (const r of rows) {
          api.reset(stmt)
          bindTyped(api, stmt, 1, text(r.table))
          bindTyped(api, stmt, 2, blob(r.pk))
          bindTyped(api, stmt, 3, text(r.cid))
          bindTyped(api, stmt, 4, r.val)
          bindTyped(api, stmt, 5, int(r.colVersion))
          bindTyped(api, stmt, 6, int(r.dbVersion))
          bindTyped(api, stmt, 7, blob(r.siteId))
          bindTyped(api, stmt, 8, int(r.cl))
          bindTyped(api, stmt, 9, int(r.seq))
          await api.step(stmt)
        }
      }
      await exec1('COMMIT')
    } catch (err) {
      await exec1('ROLLBACK').catch(() => undefined)
      throw err
    }
  })

  const selectAll = async (table: string): Promise<string[][]> => {
    const info = await run(`SELECT name, pk FROM pragma_table_info(${`'${table.replaceAll("'", "''")}'`}) ORDER BY cid`)
    const pkCols = info.filter(r => asBig(r[1]) > 0n).sort((a, b) => Number(asBig(a[1]) - asBig(b[1]))).map(r => quoteId(asText(r[0])))
    const rows = await run(`SELECT * FROM ${quoteId(table)} ORDER BY ${pkCols.join(', ')}`)
    return rows.map(r => r.map(canon))
  }

  const cells = async (): Promise<CellState[]> => {
    const rows = await changesSince(-1)
    return rows.map(r => ({
      table: r.table,
      pk: hex(r.pk),
      cid: r.cid,
      val: canon(r.val),
      colVersion: r.colVersion,
      cl: r.cl,
      site: hex(r.siteId)
    })).sort(compareCells)
  }

  return {
    siteId,
    exec: async (sql, params) => { await run(sql, params) },
    query: run,
    changesSince,
    merge,
    selectAll,
    cells,
    close: async () => {
      // cr-sqlite caches prepared statements per connection; they must go before sqlite3_close.
      await run('SELECT crsql_finalize()')
      await serial(async () => { await api.close(handle) })
    }
  }
}

/** Orders cell states by table, pk, cid (the order {@link OracleDb.cells} returns). */
export function compareCells (a: { table: string; pk: string; cid: string }, b: { table: string; pk: string; cid: string }): number {
  return a.table < b.table ? -1 : a.table > b.table ? 1 : a.pk < b.pk ? -1 : a.pk > b.pk ? 1 : a.cid < b.cid ? -1 : a.cid > b.cid ? 1 : 0
}

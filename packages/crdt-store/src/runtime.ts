import type { Database, Statement } from 'better-sqlite3'
import { clockName, cellCols, SEQ_SPAN } from './crr-sql.ts'
import { q } from './table-info.ts'
import type { CrrTable, ColumnMeta } from './table-info.ts'
import type { SqlValue } from './types.ts'

/** Prepared statements and lookups for one CRR table. */
export interface TableRuntime {
  meta: CrrTable
  /** Non-PK column name → position in `meta.cols`. */
  colIndex: Map<string, number>
  /** Clock row by key, raw: `[cl, ss, sentinel version, sentinel seq, (v, s, version, seq) per column]`. */
  getClock: Statement
  /** Writes a whole clock row: key values then the fields in `getClock` order. */
  putClock: Statement
  /** Base row's tracked columns by key, raw, exact integers. */
  getBase: Statement
  delBase: Statement
  /** For a single integer key: clock rows (key first) and base rows (key first) in a key range. */
  clockRange: Statement | undefined
  baseRange: Statement | undefined
  /** Upsert statements by the set of columns written. */
  upserts: Map<string, Statement>
  db: Database
}

/** Builds the runtime of a CRR table. */
export function tableRuntime (db: Database, meta: CrrTable): TableRuntime {
  const C = q(clockName(meta.name))
  const T = q(meta.name)
  const where = meta.pks.map(p => `${q(p.name)} = ?`).join(' AND ')
  // stamps are split into (version, seq) for JS, so versions past 2^29 stay exact
  const split = (t: string): string[] => [`${t} / ${SEQ_SPAN}`, `${t} % ${SEQ_SPAN}`]
  const join = 'CAST(? AS INTEGER) * ' + String(SEQ_SPAN) + ' + CAST(? AS INTEGER)'
  const fieldsOf = (p: string): string[] => [`${p}"__cl"`, `${p}"__ss"`, ...split(`${p}"__st"`), ...meta.cols.flatMap(c => { const [v, s, t] = cellCols(c.name).map(x => p + q(x)) as [string, string, string]; return [v, s, ...split(t)] })]
  const readFields = fieldsOf('')
  const writeCols = ['"__cl"', '"__ss"', '"__st"', ...meta.cols.flatMap(c => cellCols(c.name).map(q))]
  const writeVals = ['?', '?', join, ...meta.cols.flatMap(() => ['?', '?', join])]
  const pkCols = meta.pks.map(p => q(p.name))
  const colIndex = new Map<string, number>()
  meta.cols.forEach((c, i) => colIndex.set(c.name, i))
  return {
    meta,
    colIndex,
    db,
    getClock: db.prepare(`SELECT ${readFields.join(', ')} FROM ${C} WHERE ${where}`).raw(true),
    putClock: db.prepare(`INSERT OR REPLACE INTO ${C} (${[...pkCols, ...writeCols].join(', ')}) VALUES (${[...pkCols.map(() => '?'), ...writeVals].join(', ')})`),
    getBase: db.prepare(`SELECT ${meta.cols.length > 0 ? meta.cols.map(c => q(c.name)).join(', ') : '1'} FROM ${T} WHERE ${where}`).raw(true).safeIntegers(true),
    delBase: db.prepare(`DELETE FROM ${T} WHERE ${where}`),
    clockRange: meta.intPk ? db.prepare(`SELECT ${[pkCols[0]!, ...readFields].join(', ')} FROM ${C} WHERE ${pkCols[0]!} BETWEEN ? AND ? ORDER BY ${pkCols[0]!}`).raw(true) : undefined,
    baseRange: meta.intPk ? db.prepare(`SELECT ${[pkCols[0]!, ...meta.cols.map(c => q(c.name))].join(', ')} FROM ${T} WHERE ${pkCols[0]!} BETWEEN ? AND ? ORDER BY ${pkCols[0]!}`).raw(true).safeIntegers(true) : undefined,
    upserts: new Map()
  }
}

/** The upsert writing the key plus the given columns (by index); cached per column set. */
export function upsertFor (rt: TableRuntime, cols: readonly number[]): Statement {
  const key = cols.join(',')
  let st = rt.upserts.get(key)
  if (st == null) {
    const names = [...rt.meta.pks.map(p => p.name), ...cols.map(i => rt.meta.cols[i]!.name)]
    const sets = cols.map(i => `${q(rt.meta.cols[i]!.name)} = excluded.${q(rt.meta.cols[i]!.name)}`)
    st = rt.db.prepare(`INSERT INTO ${q(rt.meta.name)} (${names.map(q).join(', ')}) VALUES (${names.map(() => '?').join(', ')}) ON CONFLICT DO ${sets.length > 0 ? 'UPDATE SET ' + sets.join(', ') : 'NOTHING'}`)
    rt.upserts.set(key, st)
  }
  return st
}

const I64_MAX = 9223372036854775807n

/**
 * Converts a value as the column's affinity would store it, so merged values compare the way
 * they will be stored (INTEGER affinity turns integral REALs into INTEGERs, REAL the reverse).
 */
export function withAffinity (col: ColumnMeta, v: SqlValue): SqlValue {
  // SQLite stores NaN as NULL: compare it as what will be stored
  if (typeof v === 'number' && Number.isNaN(v)) return null
  if (col.affinity === 'INTEGER' || col.affinity === 'NUMERIC') {
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 9.2e18) return BigInt(v)
  } else if (col.affinity === 'REAL') {
    if (typeof v === 'bigint' && v <= I64_MAX) return Number(v)
  }
  return v
}

const converters = new WeakMap<Database, Map<string, Statement | null>>()

/**
 * The value exactly as the column would store it. The common cases are decided in JS; numbers into
 * TEXT columns and text into numeric columns go through SQLite itself (a one-row TEMP table with the
 * same declared type), since its conversion rules are not worth re-implementing.
 */
export function storedForm (db: Database, col: ColumnMeta, v: SqlValue): SqlValue {
  v = withAffinity(col, v)
  const a = col.affinity
  const viaSql = (a === 'TEXT' && (typeof v === 'number' || typeof v === 'bigint')) ||
    ((a === 'INTEGER' || a === 'NUMERIC' || a === 'REAL') && typeof v === 'string')
  if (!viaSql) return v
  let byType = converters.get(db)
  if (byType == null) { byType = new Map(); converters.set(db, byType) }
  let st = byType.get(col.type)
  if (st === undefined) {
    const name = `patina_aff_${byType.size}`
    try {
      db.exec(`CREATE TEMP TABLE IF NOT EXISTS ${q(name)} (v ${col.type})`)
      st = db.prepare(`INSERT OR REPLACE INTO temp.${q(name)} (rowid, v) VALUES (1, ?) RETURNING v`).raw(true).safeIntegers(true)
    } catch { st = null }
    byType.set(col.type, st)
  }
  if (st == null) return v
  return (st.get(v) as SqlValue[])[0] ?? null
}

/**
 * A recorded key in exact form: the number variant of the trigger function records safe INTEGER
 * keys as JS numbers; the column affinity turns them back into INTEGERs.
 */
export function exactKey (rt: TableRuntime, pk: SqlValue[]): SqlValue[] {
  if (pk.length === 1 && typeof pk[0] === 'number') return [withAffinity(rt.meta.pks[0]!, pk[0])]
  return pk
}

/** Turns a safe bigint into a number (for values handed to users). */
export function looseValue (v: SqlValue): SqlValue {
  if (typeof v === 'bigint' && v <= 9007199254740991n && v >= -9007199254740991n) return Number(v)
  return v
}

/** Normalises a JS argument coming from a safe-integers UDF. */
export function toBytes (v: SqlValue): SqlValue {
  if (v instanceof Uint8Array && !(Buffer.isBuffer(v))) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  return v
}

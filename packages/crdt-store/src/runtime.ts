import type { Database, Statement } from 'better-sqlite3'
import { clockName, cellCols } from './crr-sql.ts'
import { q } from './table-info.ts'
import type { CrrTable, ColumnMeta } from './table-info.ts'
import type { SqlValue } from './types.ts'

/** Prepared statements and lookups for one CRR table. */
export interface TableRuntime {
  meta: CrrTable
  /** Non-PK column name → position in `meta.cols`. */
  colIndex: Map<string, number>
  /** Clock row by key, raw: `[cl, ss, st, (v, s, t) per column]`. */
  getClock: Statement
  /** Writes a whole clock row: key values then the raw clock fields. */
  putClock: Statement
  /** Base row's tracked columns by key, raw, exact integers. */
  getBase: Statement
  delBase: Statement
  /** Upsert statements by the set of columns written. */
  upserts: Map<string, Statement>
  db: Database
}

/** Builds the runtime of a CRR table. */
export function tableRuntime (db: Database, meta: CrrTable): TableRuntime {
  const C = q(clockName(meta.name))
  const T = q(meta.name)
  const where = meta.pks.map(p => `${q(p.name)} = ?`).join(' AND ')
  const cells = meta.cols.flatMap(c => cellCols(c.name).map(q))
  const fields = ['"__cl"', '"__ss"', '"__st"', ...cells]
  const pkCols = meta.pks.map(p => q(p.name))
  const colIndex = new Map<string, number>()
  meta.cols.forEach((c, i) => colIndex.set(c.name, i))
  return {
    meta,
    colIndex,
    db,
    getClock: db.prepare(`SELECT ${fields.join(', ')} FROM ${C} WHERE ${where}`).raw(true),
    putClock: db.prepare(`INSERT OR REPLACE INTO ${C} (${[...pkCols, ...fields].join(', ')}) VALUES (${[...pkCols, ...fields].map(() => '?').join(', ')})`),
    getBase: db.prepare(`SELECT ${meta.cols.length > 0 ? meta.cols.map(c => q(c.name)).join(', ') : '1'} FROM ${T} WHERE ${where}`).raw(true).safeIntegers(true),
    delBase: db.prepare(`DELETE FROM ${T} WHERE ${where}`),
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
  if (col.affinity === 'INTEGER' || col.affinity === 'NUMERIC') {
    if (typeof v === 'number' && Number.isInteger(v) && Math.abs(v) < 9.2e18) return BigInt(v)
  } else if (col.affinity === 'REAL') {
    if (typeof v === 'bigint' && v <= I64_MAX) return Number(v)
  }
  return v
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

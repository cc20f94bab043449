/**
 * Reads a Patina store's replicated state in a form that compares exactly across replicas:
 * every user table's rows (storage classes kept) and every `crsql_changes` row.
 */
import type { CrdtStore } from '../../src/index.ts'
import { canon, fromTypeof, hex } from './typed-value.ts'

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** A comparable picture of a store. */
export interface StoreSnapshot {
  tables: Record<string, string[][]>
  /** `table|pk|cid|val|col_version|db_version|site|cl|seq|ts`, sorted. */
  changes: string[]
}

function readAll (store: CrdtStore, sql: string): unknown[][] {
  const cur = store.read(sql)
  try { return [...cur.rows] } finally { cur.close() }
}

/** Rows of one table ordered by primary key, each value as `canon()`. */
export function tableRows (store: CrdtStore, table: string): string[][] {
  const schema = store.schema().tables.find(t => t.name === table)
  if (schema === undefined) throw new Error(`no table ${table}`)
  const pks = schema.columns.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk).map(c => quoteId(c.name))
  const sel = schema.columns.flatMap(c => [`typeof(${quoteId(c.name)})`, quoteId(c.name)]).join(', ')
  return readAll(store, `SELECT ${sel} FROM ${quoteId(table)} ORDER BY ${pks.join(', ')}`).map(row => {
    const r: string[] = []
    for (let i = 0; i < row.length; i += 2) r.push(canon(fromTypeof(row[i], row[i + 1])))
    return r
  })
}

/** All `crsql_changes` rows as strings (every column, `val` with its storage class), sorted. */
export function changeRows (store: CrdtStore, where = ''): string[] {
  return readAll(store, `SELECT "table", pk, cid, typeof(val), val, col_version, db_version, site_id, cl, seq, ts FROM crsql_changes ${where}`)
    .map(r => [String(r[0]), hex(r[1] as Uint8Array), String(r[2]), canon(fromTypeof(r[3], r[4])), String(r[5]), String(r[6]), hex(r[7] as Uint8Array), String(r[8]), String(r[9]), String(r[10])].join('|'))
    .sort()
}

/** Tables and changes of a store. Throws if `crsql_changes` lists one cell twice. */
export function snapshot (store: CrdtStore): StoreSnapshot {
  const tables: Record<string, string[][]> = {}
  for (const t of store.schema().tables) tables[t.name] = tableRows(store, t.name)
  const changes = changeRows(store)
  const seen = new Set<string>()
  for (const c of changes) {
    const cell = c.split('|').slice(0, 3).join('|')
    if (seen.has(cell)) throw new Error(`crsql_changes lists the cell ${cell} more than once`)
    seen.add(cell)
  }
  return { tables, changes }
}

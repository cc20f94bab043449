/**
 * Incremental re-evaluation of row-local subscriptions (see `analyzeQuery`): when each result row
 * comes from one row of one table and the result carries that table's primary key, only the rows
 * whose keys changed are re-read, through the original query wrapped as
 * `WITH q(c0, …) AS (<sql>) SELECT * FROM q WHERE (pk…) IN (<changed keys>)` (or `= (<key>)` for
 * one key); SQLite pushes the key filter down into the scan.
 */
import { encodeValue, stringifyJson } from '../statement.ts'
import { cellsKey, sameCells } from './row-diff.ts'
import type { ColumnInfo, SchemaInfo, SqlValue, Statement } from '../ports.ts'
import type { RowDiffChange, SubRow } from './row-diff.ts'

/** How to re-read changed rows of a row-local subscription. */
export interface IncrementalPlan {
  /** The one table the query reads. */
  table: string
  /** Result positions of the table's primary-key columns, in primary-key order. */
  pkPos: number[]
}

/** The plan for a row-local query whose result carries its table's full primary key, else null. */
export function incrementalPlan (rowLocal: boolean, tables: Set<string>, columns: readonly ColumnInfo[], schema: SchemaInfo): IncrementalPlan | null {
  if (!rowLocal || tables.size !== 1) return null
  const table = [...tables][0] as string
  const info = schema.tables.find(t => t.name === table)
  if (info == null) return null
  const pks = info.columns.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk)
  if (pks.length === 0) return null
  const pkPos: number[] = []
  for (const pk of pks) {
    const pos = columns.findIndex(c => c.table === table && c.column === pk.name)
    if (pos < 0) return null
    pkPos.push(pos)
  }
  return { table, pkPos }
}

/**
 * The SQL texts that re-read a subscription's changed rows: `one` for a single changed key (bound
 * as plain parameters), `many` for several (bound as one JSON parameter). Built once per column
 * layout and reused, so the text (and the store's prepared statement) is the same on every batch.
 */
export interface KeyedSql {
  one: string
  many: string
  /** The statement's parameters are named (the keys then travel as `:__patina_…`). */
  named: boolean
}

/** Builds the {@link KeyedSql} texts of `statement` (see {@link keyedStatement}). */
export function keyedSql (statement: Statement, columnCount: number, plan: IncrementalPlan): KeyedSql {
  const cols = Array.from({ length: columnCount }, (_, i) => `c${i}`).join(', ')
  const head = `WITH __patina_q(${cols}) AS (\n${stripTail(statement.sql)}\n)\nSELECT * FROM __patina_q WHERE (${plan.pkPos.map(p => `c${p}`).join(', ')})`
  const named = !Array.isArray(statement.params)
  const rhs = plan.pkPos.map((_, i) => `json_extract(value, '$[${i}]')`).join(', ')
  const one = plan.pkPos.map((_, i) => named ? `:__patina_k${i}` : '?').join(', ')
  return { one: `${head} = (${one})`, many: `${head} IN (SELECT ${rhs} FROM json_each(${named ? ':__patina_keys' : '?'}))`, named }
}

/**
 * The statement that re-reads the result rows of `keys` (primary-key values, in pk order),
 * through the original query wrapped as `WITH q(c0, …) AS (<sql>) SELECT * FROM q WHERE (pk…) …`.
 * One key is compared directly (`= (?, …)`); several travel as one JSON parameter (`IN (SELECT …
 * FROM json_each(?))`), so the SQL text stays the same from batch to batch and a store can reuse
 * its prepared statement. The extra parameters follow positional ones (SQLite numbers them N+1…),
 * else they are named `:__patina_k<i>` / `:__patina_keys`. Pass `sql` to reuse prebuilt texts.
 */
export function keyedStatement (statement: Statement, columnCount: number, plan: IncrementalPlan, keys: readonly SqlValue[][], sql: KeyedSql = keyedSql(statement, columnCount, plan)): Statement {
  const params = statement.params
  const single = keys.length === 1 ? keys[0] as SqlValue[] : null
  if (!sql.named) {
    const positional = (params ?? []) as readonly SqlValue[]
    if (single != null) return { sql: sql.one, params: [...positional, ...single] }
    return { sql: sql.many, params: [...positional, keysJson(keys)] }
  }
  const named: Record<string, SqlValue> = { ...(params as Readonly<Record<string, SqlValue>> | undefined) }
  if (single != null) single.forEach((v, i) => { named[`:__patina_k${i}`] = v })
  else named[':__patina_keys'] = keysJson(keys)
  return { sql: single != null ? sql.one : sql.many, params: named }
}

function keysJson (keys: readonly SqlValue[][]): string {
  return stringifyJson(keys.map(k => k.map(encodeValue)))
}

/** Removes trailing `;`, whitespace and `--` comments, which would break the wrapper. */
export function stripTail (sql: string): string {
  let s = sql
  for (;;) {
    const t = s.replace(/[\s;]+$/, '')
    const start = t.lastIndexOf('\n') + 1
    const i = t.indexOf('--', start)
    // Only a `--` outside string literals and quoted names starts a comment.
    const before = i >= 0 ? t.slice(0, i) : ''
    if (i >= 0 && (before.split("'").length % 2 === 1) && (before.split('"').length % 2 === 1)) { s = before; continue }
    return t
  }
}

/** Whether a key can go through JSON unchanged (blobs cannot). */
export function keyIsJsonSafe (key: readonly SqlValue[]): boolean {
  return key.every(v => !(v instanceof Uint8Array) && !(typeof v === 'number' && !Number.isFinite(v)))
}

/** The held rows of a keyed subscription: by row id (in result order) and by primary key. */
export interface KeyedRows {
  byRowid: Map<number, SubRow>
  byKey: Map<string, SubRow>
}

/** Indexes rows by the plan's primary-key positions. */
export function indexRows (byRowid: Map<number, SubRow>, plan: IncrementalPlan): KeyedRows {
  const byKey = new Map<string, SubRow>()
  for (const r of byRowid.values()) byKey.set(cellsKey(r.cells, plan.pkPos), r)
  return { byRowid, byKey }
}

/**
 * Applies the re-read rows of `keys` to the held rows, in place: rows present before and after are
 * updated (when they differ), new ones appended, vanished ones deleted (reported last). Costs
 * O(changed keys).
 */
export function applyKeyed (held: KeyedRows, plan: IncrementalPlan, keys: readonly SqlValue[][], fresh: readonly SqlValue[][], nextRowid: number): { changes: RowDiffChange[], nextRowid: number } {
  if (keys.length === 1 && fresh.length <= 1) return applyOne(held, plan, keys[0] as SqlValue[], fresh[0], nextRowid)
  const freshBy = new Map<string, SqlValue[]>()
  for (const cells of fresh) freshBy.set(cellsKey(cells, plan.pkPos), cells)
  const changes: RowDiffChange[] = []
  // inserts and updates first, then deletes, as Corrosion orders a batch (a key change reads as the
  // new row arriving, then the old one leaving)
  const deletes: RowDiffChange[] = []
  const seen = new Set<string>()
  for (const key of keys) {
    const k = cellsKey(key)
    if (seen.has(k)) continue
    seen.add(k)
    const old = held.byKey.get(k)
    const neu = freshBy.get(k)
    if (old != null && neu != null) {
      if (sameCells(old.cells, neu)) continue
      const row = { rowid: old.rowid, cells: neu }
      held.byRowid.set(row.rowid, row)
      held.byKey.set(k, row)
      changes.push({ type: 'update', rowid: row.rowid, cells: neu })
    } else if (neu != null) {
      const row = { rowid: nextRowid++, cells: neu }
      held.byRowid.set(row.rowid, row)
      held.byKey.set(k, row)
      changes.push({ type: 'insert', rowid: row.rowid, cells: neu })
    } else if (old != null) {
      held.byRowid.delete(old.rowid)
      held.byKey.delete(k)
      deletes.push({ type: 'delete', rowid: old.rowid, cells: old.cells })
    }
  }
  return { changes: deletes.length === 0 ? changes : changes.concat(deletes), nextRowid }
}

/** {@link applyKeyed} for the common single changed key, without the lookup tables. */
function applyOne (held: KeyedRows, plan: IncrementalPlan, key: SqlValue[], fresh: SqlValue[] | undefined, nextRowid: number): { changes: RowDiffChange[], nextRowid: number } {
  const k = cellsKey(key)
  const old = held.byKey.get(k)
  // The re-read row must carry the key asked for (it always does for a row-local query).
  const neu = fresh != null && cellsKey(fresh, plan.pkPos) === k ? fresh : undefined
  if (old != null && neu != null) {
    if (sameCells(old.cells, neu)) return { changes: [], nextRowid }
    const row = { rowid: old.rowid, cells: neu }
    held.byRowid.set(row.rowid, row)
    held.byKey.set(k, row)
    return { changes: [{ type: 'update', rowid: row.rowid, cells: neu }], nextRowid }
  }
  if (neu != null) {
    const row = { rowid: nextRowid, cells: neu }
    held.byRowid.set(row.rowid, row)
    held.byKey.set(k, row)
    return { changes: [{ type: 'insert', rowid: row.rowid, cells: neu }], nextRowid: nextRowid + 1 }
  }
  if (old != null) {
    held.byRowid.delete(old.rowid)
    held.byKey.delete(k)
    return { changes: [{ type: 'delete', rowid: old.rowid, cells: old.cells }], nextRowid }
  }
  return { changes: [], nextRowid }
}

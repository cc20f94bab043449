/**
 * Incremental re-evaluation of row-local subscriptions (see `analyzeQuery`): when each result row
 * comes from one row of one table and the result carries that table's primary key, only the rows
 * whose keys changed are re-read, through the original query wrapped as
 * `WITH q(c0, …) AS (<sql>) SELECT * FROM q WHERE (pk…) IN (<changed keys>)`; SQLite pushes the
 * key filter down into the scan.
 */
import { encodeValue, stringifyJson } from '../statement.ts'
import { cellsKey } from './row-diff.ts'
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
 * The statement that re-reads the result rows of `keys` (primary-key values, in pk order). The
 * keys travel as one JSON parameter, so the SQL text stays the same from batch to batch (and a
 * store can reuse its prepared statement): a last `?` after positional parameters (SQLite numbers it
 * N+1), else `:__patina_keys`.
 */
export function keyedStatement (statement: Statement, columnCount: number, plan: IncrementalPlan, keys: readonly SqlValue[][]): Statement {
  const cols = Array.from({ length: columnCount }, (_, i) => `c${i}`).join(', ')
  const body = stripTail(statement.sql)
  const json = stringifyJson(keys.map(k => k.map(encodeValue)))
  const params = statement.params
  const positional = Array.isArray(params) ? params as readonly SqlValue[] : null
  const slot = positional != null ? '?' : ':__patina_keys'
  const lhs = plan.pkPos.map(p => `c${p}`).join(', ')
  const rhs = plan.pkPos.map((_, i) => `json_extract(value, '$[${i}]')`).join(', ')
  const sql = `WITH __patina_q(${cols}) AS (\n${body}\n)\nSELECT * FROM __patina_q WHERE (${lhs}) IN (SELECT ${rhs} FROM json_each(${slot}))`
  if (positional != null) return { sql, params: [...positional, json] }
  return { sql, params: { ...(params as Readonly<Record<string, SqlValue>> | undefined), ':__patina_keys': json } }
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
 * updated (when they differ), new ones appended, vanished ones deleted. Costs O(changed keys).
 */
export function applyKeyed (held: KeyedRows, plan: IncrementalPlan, keys: readonly SqlValue[][], fresh: readonly SqlValue[][], nextRowid: number): { changes: RowDiffChange[], nextRowid: number } {
  const freshBy = new Map<string, SqlValue[]>()
  for (const cells of fresh) freshBy.set(cellsKey(cells, plan.pkPos), cells)
  const changes: RowDiffChange[] = []
  const seen = new Set<string>()
  for (const key of keys) {
    const k = cellsKey(key)
    if (seen.has(k)) continue
    seen.add(k)
    const old = held.byKey.get(k)
    const neu = freshBy.get(k)
    if (old != null && neu != null) {
      if (cellsKey(old.cells) === cellsKey(neu)) continue
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
      changes.push({ type: 'delete', rowid: old.rowid, cells: old.cells })
    }
  }
  return { changes, nextRowid }
}

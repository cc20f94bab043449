/**
 * Hidden primary-key columns. Corrosion keys every subscription row by the primary keys of its
 * source rows, even when the query does not select them, so an updated row keeps its row id. For
 * a row-local query (one scan of one table, see `analyzeQuery`) that starts with `SELECT`, we do
 * the same by prepending that table's primary-key columns as `__patina_pk<i>` result columns. They
 * key the rows (and enable keyed re-reads) and are stripped from everything sent to clients.
 */
import { lexSql } from '../pg/sql-lexer.ts'
import type { ColumnInfo, SchemaInfo, Statement } from '../ports.ts'

/** Name prefix of hidden key columns. */
export const HIDDEN_KEY_PREFIX = '__patina_pk'

/** The statement with the hidden key columns prepended, and the primary key it selects. */
export interface HiddenKeys {
  statement: Statement
  table: string
  /** Primary-key column names, in primary-key order. */
  pk: string[]
}

function quote (name: string): string { return `"${name.replaceAll('"', '""')}"` }

/**
 * The statement with its table's primary key prepended, or null when the query is not row-local,
 * reads other than one table, the table has no declared primary key, or the text does not start
 * with `SELECT` (a CTE, VALUES, …).
 */
export function withHiddenKeys (statement: Statement, tables: ReadonlySet<string>, rowLocal: boolean, schema: SchemaInfo): HiddenKeys | null {
  if (!rowLocal || tables.size !== 1) return null
  const table = [...tables][0] as string
  const pk = (schema.tables.find(t => t.name === table)?.columns ?? []).filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk).map(c => c.name)
  if (pk.length === 0) return null
  const tokens = lexSql(statement.sql)
  const first = tokens.findIndex(t => t.kind !== 'comment' && t.text.trim() !== '')
  const head = tokens[first]
  const m = head?.kind === 'code' ? /^(\s*SELECT\b)(?!\s+(?:ALL|DISTINCT)\b)/i.exec(head.text) : null
  if (head == null || m == null) return null
  const cols = pk.map((c, i) => `${quote(c)} AS ${HIDDEN_KEY_PREFIX}${i}`).join(', ')
  const rewritten = tokens.map((t, i) => i === first ? `${m[1] as string} ${cols},${t.text.slice((m[1] as string).length)}` : t.text).join('')
  return { statement: { ...statement, sql: rewritten }, table, pk }
}

/**
 * Whether a run of the rewritten statement really selected the primary key: each hidden column
 * must come from that table's key column (a name that resolved elsewhere, e.g. to a subquery
 * column, disqualifies the rewrite).
 */
export function hiddenKeysResolved (columns: readonly ColumnInfo[], keys: HiddenKeys): boolean {
  return keys.pk.every((name, i) => {
    const c = columns[i]
    return c != null && c.name === `${HIDDEN_KEY_PREFIX}${i}` && c.table === keys.table && c.column === name
  })
}

/** How many leading result columns are hidden keys. */
export function hiddenCount (names: readonly string[]): number {
  let n = 0
  while (n < names.length && names[n] === `${HIDDEN_KEY_PREFIX}${n}`) n++
  return n
}

/**
 * Finds the tables a read statement reads, from SQLite itself: `EXPLAIN <sql>` lists the B-trees
 * the program opens (`OpenRead`, root page in p2, database in p3); `sqlite_schema` maps root pages
 * (of tables and of their indexes) to table names. Views, subqueries, EXISTS and IN are covered
 * because SQLite compiles them into the same program.
 *
 * The same program tells whether the query is *row-local*: one scan of one table, with no
 * subquery, aggregate, sort, DISTINCT, LIMIT or virtual table, so every result row comes from
 * exactly one row of that table and can be recomputed for just the rows that changed.
 */
import type { ApiStore, Statement } from '../ports.ts'

/** What `EXPLAIN` says about a query. */
export interface QueryAnalysis {
  /** The `main` tables the query reads. */
  tables: Set<string>
  /** True when each result row derives from one row of the single table read (see module doc). */
  rowLocal: boolean
}

// Opcodes of subqueries, aggregates, sorting, DISTINCT, LIMIT/OFFSET, OR-by-rowset and virtual tables.
const NOT_ROW_LOCAL = new Set([
  'OpenEphemeral', 'OpenAutoindex', 'SorterOpen', 'OpenPseudo', 'AggStep', 'AggStep1', 'AggFinal', 'AggValue',
  'AggInverse', 'BeginSubrtn', 'Gosub', 'InitCoroutine', 'Yield', 'VOpen', 'DecrJumpZero', 'OffsetLimit', 'IfPos',
  'Once', 'Count', 'RowSetAdd', 'RowSetRead', 'RowSetTest', 'Sort', 'SorterSort', 'Found', 'IfNotZero', 'Last', 'OpenDup'
])

/** Analyses `statement` (see {@link QueryAnalysis}). Throws the store's error for invalid SQL. */
export function analyzeQuery (store: ApiStore, statement: Statement): QueryAnalysis {
  const roots = new Map<number, { table: string, isIndex: boolean }>()
  const schema = store.query({ sql: "SELECT tbl_name, rootpage, type FROM sqlite_schema WHERE rootpage > 0 AND type IN ('table', 'index')" })
  try {
    for (const [name, root, type] of schema.rows) {
      if (typeof name === 'string') roots.set(Number(root), { table: name, isIndex: type === 'index' })
    }
  } finally { schema.close() }
  const tables = new Set<string>()
  let tableCursors = 0
  let indexCursors = 0
  let loops = 0
  let forbidden = false
  const plan = store.query({ sql: `EXPLAIN ${statement.sql}`, ...(statement.params != null ? { params: statement.params } : {}) })
  try {
    const opcode = plan.columns.findIndex(c => c.name === 'opcode')
    const p2 = plan.columns.findIndex(c => c.name === 'p2')
    const p3 = plan.columns.findIndex(c => c.name === 'p3')
    for (const row of plan.rows) {
      const op = row[opcode]
      if (typeof op !== 'string') continue
      if (NOT_ROW_LOCAL.has(op)) forbidden = true
      if (op === 'Next' || op === 'Prev' || op === 'VNext') loops++
      if (op !== 'OpenRead' && op !== 'ReopenIdx') continue
      if (Number(row[p3]) !== 0) { forbidden = true; continue } // only the main database holds user tables
      const root = roots.get(Number(row[p2]))
      if (root == null || root.table.startsWith('sqlite_')) continue
      tables.add(root.table)
      if (root.isIndex) indexCursors++
      else tableCursors++
    }
  } finally { plan.close() }
  const rowLocal = !forbidden && tables.size === 1 && tableCursors <= 1 && indexCursors <= 1 && loops <= 1
  return { tables, rowLocal }
}

/** Returns the names of the `main` tables `statement` reads. */
export function findQueryTables (store: ApiStore, statement: Statement): Set<string> {
  return analyzeQuery(store, statement).tables
}

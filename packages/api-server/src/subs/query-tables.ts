/**
 * Finds the tables a read statement reads, from SQLite itself: `EXPLAIN <sql>` lists the B-trees
 * the program opens (`OpenRead`, root page in p2, database in p3); `sqlite_schema` maps root pages
 * (of tables and of their indexes) to table names. Views, subqueries, EXISTS and IN are covered
 * because SQLite compiles them into the same program.
 */
import type { ApiStore, Statement } from '../ports.ts'

/** Returns the names of the `main` tables `statement` reads. */
export function findQueryTables (store: ApiStore, statement: Statement): Set<string> {
  const roots = new Map<number, string>()
  const schema = store.query({ sql: "SELECT tbl_name, rootpage FROM sqlite_schema WHERE rootpage > 0 AND type IN ('table', 'index')" })
  try {
    for (const [name, root] of schema.rows) {
      if (typeof name === 'string') roots.set(Number(root), name)
    }
  } finally { schema.close() }
  const tables = new Set<string>()
  const plan = store.query({ sql: `EXPLAIN ${statement.sql}`, ...(statement.params != null ? { params: statement.params } : {}) })
  try {
    const opcode = plan.columns.findIndex(c => c.name === 'opcode')
    const p2 = plan.columns.findIndex(c => c.name === 'p2')
    const p3 = plan.columns.findIndex(c => c.name === 'p3')
    for (const row of plan.rows) {
      const op = row[opcode]
      if (op !== 'OpenRead' && op !== 'ReopenIdx') continue
      if (Number(row[p3]) !== 0) continue // only the main database holds user tables
      const name = roots.get(Number(row[p2]))
      if (name != null && !name.startsWith('sqlite_')) tables.add(name)
    }
  } finally { plan.close() }
  return tables
}

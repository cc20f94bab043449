/**
 * The text SQLite's `sqlite3_expanded_sql()` gives for a statement: its SQL with every parameter
 * replaced by the literal it is bound to. Corrosion keys subscriptions by this text, so
 * `["SELECT * FROM t WHERE id = ?", [1]]` and `"SELECT * FROM t WHERE id = 1"` share one
 * subscription, and `corro-query-hash` is computed from it.
 */
import { replacePlaceholders } from '../placeholders.ts'
import type { SqlValue, Statement } from '../ports.ts'

/** A SQL literal for a value, as SQLite prints bound values in expanded SQL. */
export function sqlLiteral (v: SqlValue): string {
  if (v === null) return 'NULL'
  if (typeof v === 'bigint') return v.toString()
  if (typeof v === 'number') {
    if (Number.isInteger(v) && Math.abs(v) < 2 ** 63) return String(v)
    if (!Number.isFinite(v)) return v > 0 ? '9.0e+999' : v < 0 ? '-9.0e+999' : 'NULL'
    return String(Number(v.toPrecision(15)))
  }
  if (typeof v === 'string') return `'${v.replaceAll('\'', '\'\'')}'`
  return `x'${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}'`
}

/**
 * Expands `statement`'s parameters into its SQL. A placeholder with no bound value is left as
 * written (the statement then fails to run anyway). Named keys match with or without sigil.
 */
export function expandSql (statement: Statement): string {
  const params = statement.params
  if (params == null) return statement.sql
  const positional = Array.isArray(params) ? params as readonly SqlValue[] : null
  const named = positional == null ? params as Readonly<Record<string, SqlValue>> : null
  return replacePlaceholders(statement.sql, p => {
    if (p.index != null) {
      const v = positional?.[p.index - 1]
      return v === undefined ? p.text : sqlLiteral(v)
    }
    if (named == null) return p.text
    const v = Object.hasOwn(named, p.name) ? named[p.name] : Object.hasOwn(named, p.name.slice(1)) ? named[p.name.slice(1)] : undefined
    return v === undefined ? p.text : sqlLiteral(v)
  })
}

import { isCatalogQuery } from './catalog-rewrite.ts'
import { classifyStatement, writeVerb } from './statement-kind.ts'
import { lexSql, splitStatements } from './sql-lexer.ts'
import { rewriteForSqlite } from './sql-rewrite.ts'
import { PgProtocolError } from './errors.ts'
import type { ParamTyping } from './param-types.ts'
import type { StatementClass } from './statement-kind.ts'
import type { ResultSet } from './result-set.ts'
import type { SqlValue } from '../ports.ts'

/** A statement parsed once and run many times (a Parse message, or one statement of a Query). */
export interface PreparedStatement {
  /** The SQL as the client sent it. */
  sql: string
  /** The SQL as SQLite runs it (`$n` → `?`, casts dropped). */
  sqlite: string
  /** Number of parameters: the highest `$n`, or the Parse type list's length when longer. */
  paramCount: number
  /** Client parameter index for each `?` of `sqlite`. */
  paramOrder: number[]
  /** Parameter type OIDs from Parse (0 = let the server decide). */
  paramTypes: number[]
  /** How each parameter is typed: Parse's OID, an explicit cast in the SQL, `= ANY($n)`. */
  paramTyping: ParamTyping[]
  cls: StatementClass
  /** Verb for write command tags. */
  verb: string
  /** Answered by the emulated catalog rather than the store. */
  catalog: boolean
  /** Whether the statement contains `RETURNING` outside literals. */
  returning: boolean
}

// Analysing SQL text costs more than a point lookup; clients repeat the same texts.
const cache = new Map<string, PreparedStatement>()
const CACHE_SIZE = 512

/**
 * Prepares one statement (memoised by text and parameter types; the result is shared and must not
 * be mutated). Throws `PgProtocolError` for a Parse carrying several statements.
 */
export function prepareStatement (sql: string, paramTypes: readonly number[] = []): PreparedStatement {
  const key = paramTypes.length === 0 ? sql : `${paramTypes.join(',')}\u0000${sql}`
  const hit = cache.get(key)
  if (hit !== undefined) return hit
  const prep = analyse(sql, paramTypes)
  if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value as string)
  cache.set(key, prep)
  return prep
}

function analyse (sql: string, paramTypes: readonly number[]): PreparedStatement {
  const parts = splitStatements(sql)
  if (parts.length > 1) throw new PgProtocolError('cannot insert multiple commands into a prepared statement', { sqlState: '42601' })
  const one = parts[0] ?? ''
  const { sql: sqlite, paramCount, paramOrder, paramCasts, arrayParams } = rewriteForSqlite(one)
  const count = Math.max(paramCount, paramTypes.length)
  const cls = classifyStatement(one)
  const verb = cls.kind === 'sql' ? writeVerb(one) : cls.verb
  return {
    sql: one,
    sqlite,
    paramCount: count,
    paramOrder,
    paramTypes: [...paramTypes],
    paramTyping: Array.from({ length: count }, (_, i) => ({ client: paramTypes[i] ?? 0, cast: paramCasts[i] ?? 0, array: arrayParams.includes(i) })),
    cls,
    verb,
    // Only reads go to the catalog database, so a client can never alter it.
    catalog: cls.kind === 'sql' && (verb === 'SELECT' || verb === 'VALUES') && isCatalogQuery(one),
    returning: lexSql(one).some((t) => t.kind === 'code' && /\bRETURNING\b/i.test(t.text))
  }
}

/** A bound statement (Bind): its values, requested result formats and, once run, its open result. */
export interface Portal {
  statement: PreparedStatement
  params: SqlValue[]
  resultFormats: number[]
  /** Open rows when the statement is a read that has started. */
  result?: ResultSet
  /** The outcome once the statement has run to completion (command tag). */
  tag?: string
  /** Whether a write portal has run (a write never runs twice). */
  ran: boolean
}

/** The format (0 text, 1 binary) of result column `i` under Bind's format codes. */
export function formatOf (formats: readonly number[], i: number): number {
  if (formats.length === 0) return 0
  if (formats.length === 1) return formats[0] as number
  return formats[i] ?? 0
}

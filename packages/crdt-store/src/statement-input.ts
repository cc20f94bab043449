import { CELL_TOO_LARGE } from './crr-sql.ts'
import { SqlError, TransactionTooLargeError } from './errors.ts'
import type { SqlValue, Statement } from './types.ts'

/** Internal tables and trigger-only functions; client statements naming them are refused. */
export const INTERNAL_NAME = /__patina_|__crsql_|\bpatina_(sqn?|stamp|lastn?|existed)\b/i

/** Statement kinds a client transaction may run (after any leading comments). */
export const WRITE_HEAD = /^(?:\s+|--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*(INSERT|UPDATE|DELETE|REPLACE|SELECT|WITH|VALUES)\b/i

const NO_ARGS: unknown[] = []

// integral numbers outside the 64-bit range stay numbers: SQLite stores them as REAL
const I64_LIMIT = 2 ** 63

function conv (v: SqlValue): unknown {
  if (typeof v === 'number' && Number.isInteger(v) && v >= -I64_LIMIT && v < I64_LIMIT) return BigInt(v)
  if (v instanceof Uint8Array && !Buffer.isBuffer(v)) return Buffer.from(v.buffer, v.byteOffset, v.byteLength)
  if (typeof v === 'boolean') return v ? 1n : 0n
  return v
}

/**
 * Converts user parameters for binding (integral numbers within 64 bits as INTEGER, `:`/`$`/`@` stripped from
 * names): the argument list to spread into a better-sqlite3 call. Positional values come back as
 * separate arguments, which better-sqlite3 binds faster than one array argument.
 */
export function bindArgs (params: Statement['params']): unknown[] {
  if (params == null) return NO_ARGS
  if (Array.isArray(params)) {
    if (params.length === 0) return NO_ARGS
    const arr = new Array<unknown>(params.length)
    for (let i = 0; i < params.length; i++) arr[i] = conv(params[i] as SqlValue)
    return arr
  }
  const named: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(params as Record<string, SqlValue>)) named[k.replace(/^[:$@]/, '')] = conv(v)
  return [named]
}

/** Wraps a SQLite/binding error as a typed `SqlError` naming the statement; keeps typed errors. */
export function sqlError (err: unknown, sql: string): Error {
  const e = err as Error & { code?: string }
  if (e != null && typeof e.name === 'string' && e.name !== 'SqliteError' && e.name !== 'RangeError' && e.name !== 'TypeError') return e
  if (typeof e?.message === 'string' && e.message.startsWith(CELL_TOO_LARGE)) return new TransactionTooLargeError(`${e.message.slice('patina: '.length)}; store large values outside the database`, { cause: err })
  const opts: ErrorOptions & { code?: string } = { cause: err }
  if (typeof e?.code === 'string') opts.code = e.code
  return new SqlError(`${e?.message ?? String(err)} (in: ${sql.length > 200 ? sql.slice(0, 200) + '…' : sql})`, opts)
}


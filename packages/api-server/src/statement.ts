/**
 * Corrosion's statement forms and value encodings: parse request JSON into port `Statement`s and
 * encode SQL values back to JSON (blobs as byte arrays, big integers at full precision).
 */
import { InvalidRequestError } from './errors.ts'
import { replacePlaceholders } from './placeholders.ts'
import type { SqlValue, Statement } from './ports.ts'

// `JSON.rawJSON` (V8 ≥ 11.4, so Node 22+) is not in the TypeScript lib yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON

const I64_MIN = -(2n ** 63n)
const I64_MAX = 2n ** 63n - 1n

/**
 * Parses JSON text, keeping integers beyond 2^53 (within 64 bits) exact as `bigint`. Throws `InvalidRequestError`
 * naming the problem for invalid JSON.
 */
export function parseJson (text: string): unknown {
  try {
    return JSON.parse(text, function (_key, value: unknown, context?: { source?: string }) {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source != null && /^-?\d+$/.test(context.source)) {
        // Beyond 64 bits it is a REAL, as serde reads it for Corrosion.
        const big = BigInt(context.source)
        return big >= I64_MIN && big <= I64_MAX ? big : value
      }
      return value
    })
  } catch (err) {
    throw new InvalidRequestError(`invalid JSON body: ${(err as Error).message}`)
  }
}

function isByteArray (v: unknown[]): boolean {
  return v.every(x => typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= 255)
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Decodes a request body as UTF-8; throws `InvalidRequestError` for invalid byte sequences. */
export function decodeUtf8 (bytes: Uint8Array): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw new InvalidRequestError('request body is not valid UTF-8')
  }
}

/** Converts one JSON parameter to a SQL value (Corrosion's `SqliteParam` rules). */
export function paramValue (v: unknown): SqlValue {
  if (v === null) return null
  if (typeof v === 'boolean') return v ? 1 : 0
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string') return v
  if (Array.isArray(v) && isByteArray(v)) return Uint8Array.from(v as number[])
  // Objects and mixed arrays bind as their JSON text.
  return stringifyJson(v)
}

function params (v: unknown, where: string): NonNullable<Statement['params']> {
  if (Array.isArray(v)) return v.map(paramValue)
  if (v !== null && typeof v === 'object') {
    const out: Record<string, SqlValue> = {}
    for (const [k, x] of Object.entries(v)) out[k] = paramValue(x)
    return out
  }
  throw new InvalidRequestError(`${where}: parameters must be an array or an object`)
}

/**
 * Rewrites numbered placeholders (`?1`, `?2`, mixed with `?`) to anonymous `?` with the parameter
 * list reordered to match, so every store binds them (better-sqlite3, for one, only binds `?NNN`
 * by name). SQLite numbers a bare `?` one past the highest number so far. A statement whose
 * numbers do not match its parameter count is left as is, for the store to report.
 */
export function normalizeNumbered (sql: string, values: readonly SqlValue[]): { sql: string, params: SqlValue[] } {
  if (!/\?\d/.test(sql)) return { sql, params: [...values] }
  let numbered = false
  let highest = 0
  const order: number[] = []
  const out = replacePlaceholders(sql, p => {
    if (p.index == null) return p.text
    if (p.text !== '?') numbered = true
    highest = Math.max(highest, p.index)
    order.push(p.index - 1)
    return '?'
  })
  if (!numbered || highest !== values.length) return { sql, params: [...values] }
  return { sql: out, params: order.map(i => values[i] as SqlValue) }
}

function withParams (sql: string, p: NonNullable<Statement['params']>): Statement {
  return Array.isArray(p) ? normalizeNumbered(sql, p as SqlValue[]) : { sql, params: p }
}

/** Parses one statement in any of Corrosion's forms: `"sql"`, `[sql, [..]]`, `[sql, {..}]`, `{query, params, named_params}`. */
export function parseStatement (v: unknown, where = 'statement'): Statement {
  if (typeof v === 'string') {
    if (v.trim() === '') throw new InvalidRequestError(`${where}: SQL is empty`)
    return { sql: v }
  }
  if (Array.isArray(v)) {
    if (v.length < 1 || v.length > 2 || typeof v[0] !== 'string') {
      throw new InvalidRequestError(`${where}: expected [sql, params] with sql a string`)
    }
    if (v[0].trim() === '') throw new InvalidRequestError(`${where}: SQL is empty`)
    return v.length === 2 && v[1] != null ? withParams(v[0], params(v[1], where)) : { sql: v[0] }
  }
  if (v !== null && typeof v === 'object') {
    // Corrosion's verbose form: unknown fields are ignored, and `params` wins over `named_params`.
    const o = v as Record<string, unknown>
    if (typeof o.query !== 'string' || o.query.trim() === '') throw new InvalidRequestError(`${where}: "query" must be a non-empty string`)
    if (o.params != null && !Array.isArray(o.params)) throw new InvalidRequestError(`${where}: "params" must be an array`)
    if (o.named_params != null && (typeof o.named_params !== 'object' || Array.isArray(o.named_params))) throw new InvalidRequestError(`${where}: "named_params" must be an object`)
    if (o.params != null) return withParams(o.query, params(o.params, where))
    if (o.named_params != null) return { sql: o.query, params: params(o.named_params, where) }
    return { sql: o.query }
  }
  throw new InvalidRequestError(`${where}: expected a string, an array or an object`)
}

/** Parses the body of `POST /v1/transactions`: a JSON array of statements. */
export function parseStatements (v: unknown): Statement[] {
  if (!Array.isArray(v)) throw new InvalidRequestError('expected a JSON array of statements')
  return v.map((s, i) => parseStatement(s, `statement ${i}`))
}

/** A SQL value as JSON-ready data: blobs → byte arrays, big integers → raw JSON numbers, NaN/∞ → null. */
export function encodeValue (v: SqlValue): unknown {
  if (v === null || typeof v === 'string') return v
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  if (typeof v === 'bigint') return rawJSON(v.toString())
  if (v instanceof Uint8Array) return Array.from(v)
  return String(v)
}

/** Encodes a row of values. */
export function encodeRow (cells: readonly SqlValue[]): unknown[] {
  return cells.map(encodeValue)
}

/** `JSON.stringify` that also accepts bigint (as an exact number). */
export function stringifyJson (v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) => typeof x === 'bigint' ? rawJSON(x.toString()) : x)
}

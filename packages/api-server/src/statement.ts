/**
 * Corrosion's statement forms and value encodings: parse request JSON into port `Statement`s and
 * encode SQL values back to JSON (blobs as byte arrays, big integers at full precision).
 */
import { InvalidRequestError } from './errors.ts'
import type { SqlValue, Statement } from './ports.ts'

// `JSON.rawJSON` (V8 ≥ 11.4, so Node 22+) is not in the TypeScript lib yet.
const rawJSON = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON

/**
 * Parses JSON text, keeping integers beyond 2^53 exact as `bigint`. Throws `InvalidRequestError`
 * naming the problem for invalid JSON.
 */
export function parseJson (text: string): unknown {
  try {
    return JSON.parse(text, function (_key, value: unknown, context?: { source?: string }) {
      if (typeof value === 'number' && !Number.isSafeInteger(value) && context?.source != null && /^-?\d+$/.test(context.source)) {
        return BigInt(context.source)
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
    return v.length === 2 && v[1] != null ? { sql: v[0], params: params(v[1], where) } : { sql: v[0] }
  }
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>
    for (const k of Object.keys(o)) {
      if (k !== 'query' && k !== 'params' && k !== 'named_params') throw new InvalidRequestError(`${where}: unknown field "${k}"`)
    }
    if (typeof o.query !== 'string' || o.query.trim() === '') throw new InvalidRequestError(`${where}: "query" must be a non-empty string`)
    const hasPos = Array.isArray(o.params) && o.params.length > 0
    const hasNamed = o.named_params != null && typeof o.named_params === 'object' && Object.keys(o.named_params).length > 0
    if (o.params != null && !Array.isArray(o.params)) throw new InvalidRequestError(`${where}: "params" must be an array`)
    if (o.named_params != null && (typeof o.named_params !== 'object' || Array.isArray(o.named_params))) throw new InvalidRequestError(`${where}: "named_params" must be an object`)
    if (hasPos && hasNamed) throw new InvalidRequestError(`${where}: use either "params" or "named_params", not both`)
    if (hasPos) return { sql: o.query, params: params(o.params, where) }
    if (hasNamed) return { sql: o.query, params: params(o.named_params, where) }
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

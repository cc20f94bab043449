/** Query-string parsing for the API routes; bad values are `InvalidRequestError`s. */
import { InvalidRequestError } from '../errors.ts'

type Query = Record<string, string | string[] | undefined>

function one (q: Query, name: string): string | undefined {
  const v = q[name]
  if (Array.isArray(v)) throw new InvalidRequestError(`query parameter "${name}" given more than once`)
  return v
}

/** A non-negative number (seconds), or undefined when absent. */
export function numberParam (q: Query, name: string): number | undefined {
  const v = one(q, name)
  if (v == null || v === '') return undefined
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new InvalidRequestError(`query parameter "${name}" must be a non-negative number, got "${v}"`)
  return n
}

/** A non-negative integer, or undefined when absent. */
export function intParam (q: Query, name: string): number | undefined {
  const n = numberParam(q, name)
  if (n != null && !Number.isSafeInteger(n)) throw new InvalidRequestError(`query parameter "${name}" must be an integer`)
  return n
}

/** `true` / `false` (also `1` / `0`), or undefined when absent. */
export function boolParam (q: Query, name: string): boolean | undefined {
  const v = one(q, name)
  if (v == null || v === '') return undefined
  if (v === 'true' || v === '1') return true
  if (v === 'false' || v === '0') return false
  throw new InvalidRequestError(`query parameter "${name}" must be true or false, got "${v}"`)
}

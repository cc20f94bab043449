import type { SqlValue } from './types.ts'

const enc = new TextEncoder()

/** Type rank as cr-sqlite orders values across storage classes: INTEGER > REAL > TEXT > BLOB > NULL. */
function rank (v: SqlValue): number {
  if (v === null || v === undefined) return 0
  if (typeof v === 'bigint') return 4
  if (typeof v === 'number') return 3
  if (typeof v === 'string') return 2
  return 1
}

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : (a.length < b.length ? -1 : 1)
}

/** Compares two strings by their UTF-8 bytes (not UTF-16 code units). */
function compareText (a: string, b: string): number {
  if (a === b) return 0
  // ASCII fast path: code unit order equals byte order below U+0080
  let ascii = true
  for (let i = 0; i < a.length && ascii; i++) if (a.charCodeAt(i) > 0x7f) ascii = false
  for (let i = 0; i < b.length && ascii; i++) if (b.charCodeAt(i) > 0x7f) ascii = false
  if (ascii) return a < b ? -1 : 1
  return compareBytes(enc.encode(a), enc.encode(b))
}

/**
 * cr-sqlite's value order used to break col_version ties. Values must be "exact": INTEGER as
 * `bigint`, REAL as `number`. Returns <0, 0 or >0.
 */
export function compareValues (a: SqlValue, b: SqlValue): number {
  const ra = rank(a)
  const rb = rank(b)
  if (ra !== rb) return ra < rb ? -1 : 1
  switch (ra) {
    case 0: return 0
    case 4: return (a as bigint) === (b as bigint) ? 0 : ((a as bigint) < (b as bigint) ? -1 : 1)
    case 3: return (a as number) === (b as number) ? 0 : ((a as number) < (b as number) ? -1 : 1)
    case 2: return compareText(a as string, b as string)
    default: return compareBytes(a as Uint8Array, b as Uint8Array)
  }
}

/** Byte-wise comparison of two byte arrays (site ids). */
export { compareBytes }

/**
 * SQLite values with their storage class kept explicit, so INTEGER 1 and REAL 1.0 never collapse
 * into the same JavaScript number while comparing two engines.
 */

/** A SQLite value tagged with its storage class. */
export type Typed =
  | { readonly type: 'null' }
  | { readonly type: 'integer'; readonly value: bigint }
  | { readonly type: 'real'; readonly value: number }
  | { readonly type: 'text'; readonly value: string }
  | { readonly type: 'blob'; readonly value: Uint8Array }

/** The NULL value. */
export const NULL: Typed = { type: 'null' }
/** An INTEGER. */
export const int = (value: number | bigint): Typed => ({ type: 'integer', value: BigInt(value) })
/** A REAL (kept REAL even when integral). */
export const real = (value: number): Typed => ({ type: 'real', value })
/** A TEXT. */
export const text = (value: string): Typed => ({ type: 'text', value })
/** A BLOB. */
export const blob = (value: Uint8Array | readonly number[]): Typed => ({ type: 'blob', value: Uint8Array.from(value) })

const hex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')

/** A stable, human-readable key: `i:5`, `r:1.5`, `t:"a"`, `b:00ff`, `n`. */
export function canon (v: Typed): string {
  switch (v.type) {
    case 'null': return 'n'
    case 'integer': return `i:${v.value}`
    case 'real': return `r:${Object.is(v.value, -0) ? '0' : String(v.value)}`
    case 'text': return `t:${JSON.stringify(v.value)}`
    case 'blob': return `b:${hex(v.value)}`
  }
}

/** The value as a SQL literal that both engines parse to the same storage class. */
export function sqlLiteral (v: Typed): string {
  switch (v.type) {
    case 'null': return 'NULL'
    case 'integer':
      // -9223372036854775808 cannot be written as a literal (the parser sees unary minus on an
      // out-of-range positive number), so spell it as an expression.
      return v.value === -(2n ** 63n) ? '(-9223372036854775807 - 1)' : String(v.value)
    case 'real': {
      if (!Number.isFinite(v.value)) throw new RangeError(`no SQL literal for REAL ${v.value}`)
      const s = String(v.value)
      return /[.eE]/.test(s) ? s : `${s}.0`
    }
    case 'text': return `'${v.value.replaceAll("'", "''")}'`
    case 'blob': return `x'${hex(v.value)}'`
  }
}

/**
 * Builds a tagged value from what `SELECT typeof(x), x` returned. `raw` may be a number for an
 * INTEGER (drivers without safe integers); it is converted exactly when it is an integer.
 */
export function fromTypeof (typeName: unknown, raw: unknown): Typed {
  switch (typeName) {
    case 'null': return NULL
    case 'integer':
      if (typeof raw === 'bigint') return int(raw)
      if (typeof raw === 'number' && Number.isInteger(raw)) return int(raw)
      throw new TypeError(`INTEGER read back as ${typeof raw}`)
    case 'real':
      if (typeof raw === 'number') return real(raw)
      if (typeof raw === 'bigint') return real(Number(raw))
      throw new TypeError(`REAL read back as ${typeof raw}`)
    case 'text':
      if (typeof raw === 'string') return text(raw)
      throw new TypeError(`TEXT read back as ${typeof raw}`)
    case 'blob':
      if (raw instanceof Uint8Array) return blob(raw)
      throw new TypeError(`BLOB read back as ${typeof raw}`)
    default:
      throw new TypeError(`unknown storage class ${String(typeName)}`)
  }
}

const TYPE_RANK: Record<Typed['type'], number> = { integer: 1, real: 2, text: 3, blob: 4, null: 5 }

function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1
}

/**
 * cr-sqlite's value order used to break col_version ties: INTEGER > REAL > TEXT > BLOB > NULL,
 * numbers numerically, text by UTF-8 bytes, blobs by bytes. Returns <0, 0, >0.
 */
export function compareCr (a: Typed, b: Typed): number {
  if (a.type !== b.type) return TYPE_RANK[b.type] - TYPE_RANK[a.type] < 0 ? -1 : 1
  switch (a.type) {
    case 'null': return 0
    case 'integer': { const bv = (b as typeof a).value; return a.value === bv ? 0 : a.value < bv ? -1 : 1 }
    case 'real': { const bv = (b as typeof a).value; return a.value === bv ? 0 : a.value < bv ? -1 : 1 }
    case 'text': return compareBytes(Buffer.from(a.value, 'utf8'), Buffer.from((b as typeof a).value, 'utf8'))
    case 'blob': return compareBytes(a.value, (b as typeof a).value)
  }
}

/** Byte-wise comparison of two byte strings (site ids, packed pks). */
export { compareBytes }

/** Lower-case hex of bytes. */
export { hex }

import { MalformedPkError } from './errors.ts'
import type { SqlValue } from './types.ts'

const enc = new TextEncoder()
const dec = new TextDecoder('utf-8', { fatal: false })
const MAX_I64 = 0x7fffffffffffffffn
const MIN_I64 = -0x8000000000000000n

function intBytes (v: bigint): number {
  if (v < 0n) return 8
  let n = 0
  while (v > 0n) { n++; v >>= 8n }
  return n
}

function lenBytes (len: number): number {
  if (len === 0) return 0
  if (len < 0x100) return 1
  if (len < 0x10000) return 2
  if (len < 0x1000000) return 3
  return 4
}

/**
 * Packs values in cr-sqlite's packed-column encoding. With `exact` (internal use) a `number` is
 * always REAL and a `bigint` INTEGER; otherwise integral numbers pack as INTEGER.
 */
export function packValues (values: readonly SqlValue[], exact: boolean): Uint8Array {
  if (values.length > 255) throw new MalformedPkError('a packed key holds at most 255 columns')
  const parts: number[] = [values.length]
  for (const v of values) {
    if (v === null || v === undefined) { parts.push(5); continue }
    if (typeof v === 'bigint' || (typeof v === 'number' && !exact && Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER)) {
      if (v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
        // the common key: non-negative and safe, packed with number arithmetic (a bigint per
        // byte would be garbage on every packed key)
        const x = Number(v)
        let n = 0
        for (let t = x; t > 0; t = Math.floor(t / 256)) n++
        parts.push((n << 3) | 1)
        for (let i = n - 1; i >= 0; i--) parts.push(Math.floor(x / 2 ** (i * 8)) % 256)
        continue
      }
      const b = BigInt(v)
      if (b > MAX_I64 || b < MIN_I64) throw new MalformedPkError('integer out of 64-bit range')
      const n = intBytes(b)
      parts.push((n << 3) | 1)
      const u = b < 0n ? b + (1n << 64n) : b
      for (let i = n - 1; i >= 0; i--) parts.push(Number((u >> BigInt(i * 8)) & 0xffn))
    } else if (typeof v === 'number') {
      parts.push(2)
      const buf = new DataView(new ArrayBuffer(8))
      buf.setFloat64(0, v)
      for (let i = 0; i < 8; i++) parts.push(buf.getUint8(i))
    } else {
      const isText = typeof v === 'string'
      const bytes = isText ? enc.encode(v) : v
      const n = lenBytes(bytes.length)
      parts.push((n << 3) | (isText ? 3 : 4))
      for (let i = n - 1; i >= 0; i--) parts.push((bytes.length >>> (i * 8)) & 0xff)
      for (const x of bytes) parts.push(x)
    }
  }
  return new Uint8Array(parts)
}

function truncated (): MalformedPkError {
  return new MalformedPkError('packed key is truncated')
}

/**
 * Unpacks cr-sqlite's packed encoding. With `exact` INTEGERs come back as `bigint`; otherwise as
 * `number` when safe. Throws `MalformedPkError` on truncated or invalid bytes.
 */
export function unpackValues (bytes: Uint8Array, exact: boolean): SqlValue[] {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0) throw new MalformedPkError('packed key is empty')
  const n = bytes[0]!
  const out: SqlValue[] = []
  let p = 1
  for (let i = 0; i < n; i++) {
    if (p + 1 > bytes.length) throw truncated()
    const h = bytes[p++]!
    const type = h & 7
    const len = h >> 3
    if (type === 1) {
      if (len > 8) throw new MalformedPkError('integer longer than 8 bytes')
      if (p + len > bytes.length) throw truncated()
      if (len <= 6) {
        // up to 48 bits: exact in a number, one bigint at most
        let x = 0
        for (let k = 0; k < len; k++) x = x * 256 + bytes[p++]!
        out.push(exact ? BigInt(x) : x)
        continue
      }
      let u = 0n
      for (let k = 0; k < len; k++) u = (u << 8n) | BigInt(bytes[p++]!)
      if (len === 8 && u > MAX_I64) u -= 1n << 64n
      out.push(exact ? u : (u <= BigInt(Number.MAX_SAFE_INTEGER) && u >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(u) : u))
    } else if (type === 2) {
      if (p + 8 > bytes.length) throw truncated()
      out.push(new DataView(bytes.buffer, bytes.byteOffset + p, 8).getFloat64(0))
      p += 8
    } else if (type === 3 || type === 4) {
      if (len > 4) throw new MalformedPkError('length prefix longer than 4 bytes')
      if (p + len > bytes.length) throw truncated()
      let l = 0
      for (let k = 0; k < len; k++) l = l * 256 + bytes[p++]!
      if (p + l > bytes.length) throw truncated()
      const slice = bytes.subarray(p, p + l)
      p += l
      out.push(type === 3 ? dec.decode(slice) : Uint8Array.from(slice))
    } else if (type === 5) {
      out.push(null)
    } else {
      throw new MalformedPkError(`unknown type tag ${type} in packed key`)
    }
  }
  if (p !== bytes.length) throw new MalformedPkError('trailing bytes after packed key')
  return out
}

/** Packs primary-key values in cr-sqlite's encoding (integral numbers pack as INTEGER). */
export function packPk (values: readonly SqlValue[]): Uint8Array {
  return packValues(values, false)
}

/** Unpacks a cr-sqlite packed key; INTEGERs are `number` when safe, else `bigint`. */
export function unpackPk (bytes: Uint8Array): SqlValue[] {
  return unpackValues(bytes, false)
}

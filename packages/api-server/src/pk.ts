/**
 * cr-sqlite's packed-column encoding of primary keys: `[count u8]`, then per value a type byte
 * (low 3 bits: 1 integer, 2 float, 3 text, 4 blob, 5 null; high 5 bits: byte width of the integer
 * or of the length that follows), then the big-endian integer / f64 / length + bytes.
 */
import { InvalidRequestError } from './errors.ts'
import type { SqlValue } from './ports.ts'

const INT = 1
const FLOAT = 2
const TEXT = 3
const BLOB = 4
const NULL = 5

function intBytes (v: bigint): number[] {
  // Negative integers take the full 8 bytes (two's complement); others the minimal width (≥ 1).
  let u = v < 0n ? BigInt.asUintN(64, v) : v
  const out: number[] = []
  do { out.unshift(Number(u & 0xffn)); u >>= 8n } while (u > 0n)
  return out
}

/** Packs primary-key values into cr-sqlite's packed-column bytes. */
export function packPk (values: readonly SqlValue[]): Uint8Array {
  if (values.length > 255) throw new InvalidRequestError('too many primary key columns')
  const out: number[] = [values.length]
  const enc = new TextEncoder()
  for (const v of values) {
    if (v === null) { out.push(NULL); continue }
    if (typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v))) {
      const b = intBytes(BigInt(v))
      out.push((b.length << 3) | INT, ...b)
      continue
    }
    if (typeof v === 'number') {
      const buf = new DataView(new ArrayBuffer(8))
      buf.setFloat64(0, v)
      out.push((8 << 3) | FLOAT, ...new Uint8Array(buf.buffer))
      continue
    }
    const bytes = typeof v === 'string' ? enc.encode(v) : v
    const len = intBytes(BigInt(bytes.length))
    out.push((len.length << 3) | (typeof v === 'string' ? TEXT : BLOB), ...len)
    for (const x of bytes) out.push(x)
  }
  return Uint8Array.from(out)
}

/** Unpacks cr-sqlite packed-column bytes; throws `InvalidRequestError` on malformed input. */
export function unpackPk (bytes: Uint8Array): SqlValue[] {
  const fail = (): never => { throw new InvalidRequestError('malformed packed primary key') }
  if (bytes.length < 1) fail()
  const count = bytes[0] as number
  const out: SqlValue[] = []
  let i = 1
  const readUint = (width: number): bigint => {
    if (i + width > bytes.length) fail()
    let v = 0n
    for (let k = 0; k < width; k++) v = (v << 8n) | BigInt(bytes[i++] as number)
    return v
  }
  for (let c = 0; c < count; c++) {
    if (i >= bytes.length) fail()
    const tb = bytes[i++] as number
    const type = tb & 7
    const width = tb >> 3
    if (type === NULL) { out.push(null); continue }
    if (type === INT) {
      if (width > 8) fail()
      const u = readUint(width)
      const v = width === 8 ? BigInt.asIntN(64, u) : u
      out.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v)
    } else if (type === FLOAT) {
      if (i + 8 > bytes.length) fail()
      out.push(new DataView(bytes.buffer, bytes.byteOffset + i, 8).getFloat64(0))
      i += 8
    } else if (type === TEXT || type === BLOB) {
      if (width > 4) fail()
      const len = Number(readUint(width))
      if (i + len > bytes.length) fail()
      const slice = bytes.slice(i, i + len)
      i += len
      out.push(type === TEXT ? new TextDecoder().decode(slice) : slice)
    } else fail()
  }
  if (i !== bytes.length) fail()
  return out
}

import { PgProtocolError } from '../errors.ts'

/**
 * Reads the fields of one frontend message body. Every read checks bounds and throws
 * `PgProtocolError` on truncation, so a malformed message can never read past its frame.
 */
export class MessageReader {
  private readonly buf: Buffer
  private pos: number

  constructor (buf: Buffer) {
    this.buf = buf
    this.pos = 0
  }

  /** Bytes not read yet. */
  get remaining (): number {
    return this.buf.length - this.pos
  }

  private need (n: number, what: string): void {
    if (n < 0 || this.pos + n > this.buf.length) {
      throw new PgProtocolError(`message truncated while reading ${what}`)
    }
  }

  /** A signed 16-bit big-endian integer. */
  int16 (what = 'int16'): number {
    this.need(2, what)
    const v = this.buf.readInt16BE(this.pos)
    this.pos += 2
    return v
  }

  /** A signed 32-bit big-endian integer. */
  int32 (what = 'int32'): number {
    this.need(4, what)
    const v = this.buf.readInt32BE(this.pos)
    this.pos += 4
    return v
  }

  /** One byte. */
  byte (what = 'byte'): number {
    this.need(1, what)
    const v = this.buf[this.pos] as number
    this.pos += 1
    return v
  }

  /** A NUL-terminated UTF-8 string. */
  cstring (what = 'string'): string {
    const end = this.buf.indexOf(0, this.pos)
    if (end < 0) throw new PgProtocolError(`missing string terminator while reading ${what}`)
    const s = this.buf.toString('utf8', this.pos, end)
    this.pos = end + 1
    return s
  }

  /** `n` raw bytes (a view, not a copy). */
  bytes (n: number, what = 'bytes'): Buffer {
    this.need(n, what)
    const v = this.buf.subarray(this.pos, this.pos + n)
    this.pos += n
    return v
  }

  /** Everything left. */
  rest (): Buffer {
    const v = this.buf.subarray(this.pos)
    this.pos = this.buf.length
    return v
  }
}

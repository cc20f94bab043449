/**
 * Encodes backend messages into one growing buffer, so a whole response (rows, CommandComplete,
 * ReadyForQuery) goes to the socket in a single write.
 */
export class MessageWriter {
  private buf: Buffer
  private pos: number
  private start: number

  constructor (initial = 16 * 1024) {
    this.buf = Buffer.allocUnsafe(initial)
    this.pos = 0
    this.start = -1
  }

  /** Bytes written and not yet taken. */
  get length (): number {
    return this.pos
  }

  private ensure (n: number): void {
    if (this.pos + n <= this.buf.length) return
    let cap = this.buf.length * 2
    while (cap < this.pos + n) cap *= 2
    const next = Buffer.allocUnsafe(cap)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }

  /** Starts a message of type `type` (a char code); its length is patched by {@link end}. */
  begin (type: number): this {
    this.ensure(5)
    this.buf[this.pos] = type
    this.start = this.pos + 1
    this.pos += 5
    return this
  }

  /** Finishes the current message by writing its length. */
  end (): this {
    this.buf.writeInt32BE(this.pos - this.start, this.start)
    this.start = -1
    return this
  }

  /** Appends one byte. */
  byte (v: number): this {
    this.ensure(1)
    this.buf[this.pos++] = v
    return this
  }

  /** Appends a big-endian int16. */
  int16 (v: number): this {
    this.ensure(2)
    this.buf.writeInt16BE(v, this.pos)
    this.pos += 2
    return this
  }

  /** Appends a big-endian int32. */
  int32 (v: number): this {
    this.ensure(4)
    this.buf.writeInt32BE(v, this.pos)
    this.pos += 4
    return this
  }

  /** Appends a NUL-terminated UTF-8 string. */
  cstring (s: string): this {
    const n = Buffer.byteLength(s)
    this.ensure(n + 1)
    this.buf.write(s, this.pos, 'utf8')
    this.pos += n
    this.buf[this.pos++] = 0
    return this
  }

  /** Appends raw bytes. */
  bytes (b: Uint8Array): this {
    this.ensure(b.length)
    this.buf.set(b, this.pos)
    this.pos += b.length
    return this
  }

  /** Appends an int32 length then the UTF-8 string (a DataRow field). */
  lengthPrefixedString (s: string): this {
    const n = Buffer.byteLength(s)
    this.ensure(n + 4)
    this.buf.writeInt32BE(n, this.pos)
    this.pos += 4
    this.buf.write(s, this.pos, 'utf8')
    this.pos += n
    return this
  }

  /** Takes everything written so far (a copy) and resets the writer. */
  take (): Buffer {
    const out = Buffer.from(this.buf.subarray(0, this.pos))
    this.pos = 0
    return out
  }
}

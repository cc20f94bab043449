import { AdminProtocolError } from './errors.ts'

/** Largest admin frame accepted (100 MiB, as Corrosion). */
export const MAX_ADMIN_FRAME = 100 * 1024 * 1024

/** Encodes one JSON value as a 4-byte big-endian length + UTF-8 JSON frame. */
export function encodeFrame (value: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(value), 'utf8')
  const head = Buffer.alloc(4)
  head.writeUInt32BE(body.length, 0)
  return Buffer.concat([head, body])
}

/** Accumulates bytes and yields complete decoded frames; throws AdminProtocolError on bad input. */
export class FrameDecoder {
  private buf: Buffer = Buffer.alloc(0)
  private readonly max: number
  constructor (max = MAX_ADMIN_FRAME) { this.max = max }
  /** Feeds bytes; returns the frames completed by them. */
  push (chunk: Buffer): unknown[] {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk])
    const out: unknown[] = []
    while (this.buf.length >= 4) {
      const len = this.buf.readUInt32BE(0)
      if (len > this.max) throw new AdminProtocolError(`admin frame of ${len} bytes exceeds the ${this.max}-byte limit`)
      if (this.buf.length < 4 + len) break
      const body = this.buf.subarray(4, 4 + len)
      this.buf = this.buf.subarray(4 + len)
      try {
        out.push(JSON.parse(body.toString('utf8')))
      } catch (err) {
        throw new AdminProtocolError(`admin frame is not valid JSON: ${(err as Error).message}`, { cause: err })
      }
    }
    return out
  }
}

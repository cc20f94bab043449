import { PgProtocolError } from '../errors.ts'

/** One frontend message: its type byte (0 for startup-phase messages, which have none) and body. */
export interface Frame {
  type: number
  body: Buffer
}

/** Options of {@link frameDecoder}. */
export interface FrameDecoderInit {
  /** Largest accepted message body in bytes (default 64 MiB). */
  maxMessageSize?: number
  /** Largest accepted startup packet (default 10 000 bytes, as PostgreSQL). */
  maxStartupSize?: number
}

/** Splits the client byte stream into frames. */
export interface FrameDecoder {
  /** Appends received bytes. */
  push(chunk: Buffer): void
  /**
   * The next complete frame, or `null` when more bytes are needed. `startup` selects the untyped
   * startup framing. Throws `PgProtocolError` for an impossible length.
   */
  next(startup: boolean): Frame | null
  /** Bytes buffered but not yet framed. */
  readonly buffered: number
}

/** Creates a {@link FrameDecoder}. */
export function frameDecoder (init: FrameDecoderInit = {}): FrameDecoder {
  const maxMessage = init.maxMessageSize ?? 64 * 1024 * 1024
  const maxStartup = init.maxStartupSize ?? 10_000
  let chunks: Buffer[] = []
  let size = 0

  // Joins pending chunks only when a frame spans several of them.
  const head = (): Buffer => {
    if (chunks.length > 1) chunks = [Buffer.concat(chunks, size)]
    return chunks[0] ?? Buffer.alloc(0)
  }

  const consume = (n: number): void => {
    const buf = head()
    size -= n
    chunks = size === 0 ? [] : [buf.subarray(n)]
  }

  return {
    push (chunk) {
      if (chunk.length === 0) return
      chunks.push(chunk)
      size += chunk.length
    },
    next (startup) {
      const headerLen = startup ? 4 : 5
      if (size < headerLen) return null
      const buf = head()
      const type = startup ? 0 : buf[0] as number
      const len = buf.readInt32BE(startup ? 0 : 1)
      if (len < 4) throw new PgProtocolError(`invalid message length ${len}`)
      if (startup && (len < 8 || len > maxStartup)) throw new PgProtocolError(`invalid startup packet length ${len}`)
      if (len - 4 > maxMessage) throw new PgProtocolError(`message of ${len - 4} bytes exceeds the limit of ${maxMessage}`)
      const total = len + (startup ? 0 : 1)
      if (size < total) return null
      const body = Buffer.from(buf.subarray(headerLen, total))
      consume(total)
      return { type, body }
    },
    get buffered () {
      return size
    }
  }
}

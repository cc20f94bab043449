import { FrameTooLargeError } from './errors.ts'

/** Bytes of the big-endian length prefix in front of every frame. */
export const FRAME_HEADER_BYTES = 4

/**
 * Prefix `body` with its 4-byte big-endian length.
 */
export function encodeFrame (body: Uint8Array): Uint8Array {
  const out = new Uint8Array(FRAME_HEADER_BYTES + body.byteLength)
  new DataView(out.buffer).setUint32(0, body.byteLength)
  out.set(body, FRAME_HEADER_BYTES)
  return out
}

/**
 * Incremental decoder of 4-byte length-prefixed frames. Pure: bytes in, frames out.
 * A frame announced larger than `maxFrameBytes` throws {@link FrameTooLargeError} before any of
 * its body is buffered, so a hostile length cannot make us allocate.
 */
export class FrameDecoder {
  readonly maxFrameBytes: number
  #chunks: Uint8Array[] = []
  #buffered = 0

  constructor (maxFrameBytes: number) {
    this.maxFrameBytes = maxFrameBytes
  }

  /** Bytes held that do not yet form a whole frame. */
  get bufferedBytes (): number {
    return this.#buffered
  }

  /** Feed bytes; returns every frame body completed by them, in order. */
  push (bytes: Uint8Array): Uint8Array[] {
    if (bytes.byteLength > 0) {
      this.#chunks.push(bytes)
      this.#buffered += bytes.byteLength
    }
    const frames: Uint8Array[] = []
    while (this.#buffered >= FRAME_HEADER_BYTES) {
      const header = this.#peek(FRAME_HEADER_BYTES)
      const length = new DataView(header.buffer, header.byteOffset, FRAME_HEADER_BYTES).getUint32(0)
      if (length > this.maxFrameBytes) {
        throw new FrameTooLargeError(`frame of ${length} bytes exceeds the limit of ${this.maxFrameBytes} bytes`)
      }
      if (this.#buffered < FRAME_HEADER_BYTES + length) break
      this.#take(FRAME_HEADER_BYTES)
      frames.push(this.#take(length))
    }
    return frames
  }

  #peek (n: number): Uint8Array {
    const first = this.#chunks[0]
    if (first != null && first.byteLength >= n) return first.subarray(0, n)
    return this.#gather(n, false)
  }

  #take (n: number): Uint8Array {
    const first = this.#chunks[0]
    if (first != null && first.byteLength >= n) {
      const out = first.subarray(0, n)
      if (first.byteLength === n) this.#chunks.shift()
      else this.#chunks[0] = first.subarray(n)
      this.#buffered -= n
      return out
    }
    return this.#gather(n, true)
  }

  // Copies across chunk boundaries; only hit when a frame straddles network reads.
  #gather (n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n)
    let offset = 0
    let i = 0
    while (offset < n) {
      const chunk = this.#chunks[i]
      if (chunk == null) break
      const use = Math.min(chunk.byteLength, n - offset)
      out.set(chunk.subarray(0, use), offset)
      offset += use
      if (consume) {
        if (use === chunk.byteLength) {
          this.#chunks.shift()
        } else {
          this.#chunks[0] = chunk.subarray(use)
          i++
        }
      } else {
        i++
      }
    }
    if (consume) this.#buffered -= n
    return out
  }
}

import type { Stream } from '@libp2p/interface'
import { decodeMessage, encodeMessage } from './codec.ts'
import type { Message } from './codec.ts'
import { MalformedFrameError, StreamTimeoutError } from './errors.ts'
import { FrameDecoder, encodeFrame } from './frame-decoder.ts'

/** Options of a {@link FramedStream}. */
export interface FramedStreamInit {
  /** Frames announced larger than this abort the stream with `FrameTooLargeError`. */
  maxFrameBytes: number
  /** Called with the byte count of every received network chunk (metrics). */
  onBytesIn?: (n: number) => void
  /** Called with the byte count of every sent frame (metrics). */
  onBytesOut?: (n: number) => void
  /**
   * While a frame is incomplete, more of it must arrive within this time, or the stream is
   * aborted with `StreamTimeoutError` (slow-loris protection). Default: no limit.
   */
  frameTimeoutMs?: number
}

/** Options of {@link FramedStream.next}. */
export interface NextOptions {
  signal?: AbortSignal
  /** Give up (and abort the stream) when no whole frame arrives within this time. */
  timeoutMs?: number
}

// Past this many decoded-but-unread frames the stream is paused, so a fast sender cannot make us
// buffer without bound; QUIC flow control then pushes back on it.
const PAUSE_AT_FRAMES = 256

/**
 * Length-prefixed msgpack messages over a libp2p stream: decoding is strict and any error (too
 * large, malformed, timeout) is thrown by {@link next} as a typed error.
 */
export class FramedStream {
  readonly stream: Stream
  #decoder: FrameDecoder
  #frames: Uint8Array[] = []
  #error: Error | undefined
  #ended = false
  #paused = false
  #wake: (() => void) | undefined
  #init: FramedStreamInit
  #partialTimer: ReturnType<typeof setTimeout> | undefined

  constructor (stream: Stream, init: FramedStreamInit) {
    this.stream = stream
    this.#init = init
    this.#decoder = new FrameDecoder(init.maxFrameBytes)
    stream.addEventListener('message', (evt) => {
      if (this.#error != null) return
      const data = evt.data
      const bytes = data instanceof Uint8Array ? data : data.subarray()
      init.onBytesIn?.(bytes.byteLength)
      try {
        for (const frame of this.#decoder.push(bytes)) this.#frames.push(frame)
      } catch (err) {
        this.#error = err as Error
        stream.abort(err as Error)
      }
      this.#watchPartial()
      if (this.#frames.length >= PAUSE_AT_FRAMES && !this.#paused) {
        this.#paused = true
        stream.pause()
      }
      this.#notify()
    })
    stream.addEventListener('remoteCloseWrite', () => {
      this.#ended = true
      this.#notify()
    })
    stream.addEventListener('close', (evt) => {
      this.#ended = true
      if (this.#partialTimer != null) clearTimeout(this.#partialTimer)
      if (evt.error != null && this.#error == null) this.#error = evt.error
      this.#notify()
    })
  }

  /** True once the stream is closed or errored. */
  get closed (): boolean {
    return this.stream.status !== 'open' || this.#error != null
  }

  /** True once the remote will send nothing more (it closed its side, or the stream broke). */
  get ended (): boolean {
    return this.#ended || this.closed
  }

  /**
   * The next message, or `null` when the remote closed its side cleanly. Throws the typed error
   * that broke the stream.
   */
  async next (options?: NextOptions): Promise<Message | null> {
    const body = await this.nextFrame(options)
    if (body == null) return null
    return decodeMessage(body)
  }

  /** The next raw frame body (undecoded), or `null` at a clean end. */
  async nextFrame (options?: NextOptions): Promise<Uint8Array | null> {
    while (true) {
      const frame = this.#frames.shift()
      if (frame != null) {
        if (this.#paused && this.#frames.length < PAUSE_AT_FRAMES / 2) {
          this.#paused = false
          this.stream.resume()
        }
        return frame
      }
      if (this.#error != null) throw this.#error
      if (this.#ended) {
        if (this.#decoder.bufferedBytes > 0) {
          this.#error = new MalformedFrameError(`stream ended inside a frame (${this.#decoder.bufferedBytes} bytes left over)`)
          throw this.#error
        }
        return null
      }
      await this.#waitForData(options)
    }
  }

  /** Encode and send one message; `false` means the transport wants a drain before more. */
  send (msg: Message): boolean {
    return this.sendFrame(encodeMessage(msg))
  }

  /** Send an already-encoded message body. */
  sendFrame (body: Uint8Array): boolean {
    const frame = encodeFrame(body)
    this.#init.onBytesOut?.(frame.byteLength)
    return this.stream.send(frame)
  }

  /** Resolves when the transport can take more data. */
  async drain (options?: { signal?: AbortSignal }): Promise<void> {
    if (this.stream.writableNeedsDrain) await this.stream.onDrain(options)
  }

  /** Abort the stream with `err` (idempotent). */
  abort (err: Error): void {
    if (this.#error == null) this.#error = err
    if (this.stream.status === 'open') this.stream.abort(err)
    this.#notify()
  }

  /** Close our side gracefully, aborting if that takes too long. */
  async close (options?: { signal?: AbortSignal }): Promise<void> {
    try {
      await this.stream.close(options)
    } catch (err) {
      this.abort(err as Error)
    }
  }

  // Slow-loris guard: while a frame is incomplete, some of it must arrive every frameTimeoutMs.
  #watchPartial (): void {
    const limit = this.#init.frameTimeoutMs
    if (limit == null) return
    if (this.#partialTimer != null) clearTimeout(this.#partialTimer)
    this.#partialTimer = undefined
    if (this.#decoder.bufferedBytes > 0) {
      this.#partialTimer = setTimeout(() => {
        this.abort(new StreamTimeoutError(`no progress on an incomplete frame for ${limit} ms`))
      }, limit)
    }
  }

  #notify (): void {
    const wake = this.#wake
    this.#wake = undefined
    wake?.()
  }

  async #waitForData (options?: NextOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    await new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined
      const onAbort = (): void => {
        cleanup()
        reject(options?.signal?.reason ?? new StreamTimeoutError('aborted'))
      }
      const cleanup = (): void => {
        if (timer != null) clearTimeout(timer)
        options?.signal?.removeEventListener('abort', onAbort)
        this.#wake = undefined
      }
      this.#wake = () => {
        cleanup()
        resolve()
      }
      if (options?.timeoutMs != null) {
        timer = setTimeout(() => {
          cleanup()
          const err = new StreamTimeoutError(`no frame within ${options.timeoutMs} ms`)
          this.abort(err)
          reject(err)
        }, options.timeoutMs)
      }
      options?.signal?.addEventListener('abort', onAbort, { once: true })
    })
  }
}

import type { Multiaddr } from '@multiformats/multiaddr'
import type { FramedStream } from './framed-stream.ts'
import type { NodeContext } from './node-context.ts'

/** Options of an {@link OutboundLink}. */
export interface OutboundLinkInit {
  protocol: string
  target: Multiaddr
  /** Frames buffered (while connecting, or unsent in the transport) before new ones are dropped. */
  maxBufferBytes: number
  /**
   * Called once when the link is closed for good (then the owner forgets it), with the number of
   * items (as given to `send`) that were still waiting and are now dropped.
   */
  onClose: (link: OutboundLink, err: Error | undefined, droppedItems: number, droppedTags: unknown[]) => void
  /** Called once the handshake completed. */
  onOpen?: (link: OutboundLink) => void
  /** Dial + handshake time limit (default: the node's `dialTimeoutMs`). */
  dialTimeoutMs?: number
}

/**
 * A long-lived, admitted, one-way stream to one peer for one protocol. Frames sent while it
 * connects are buffered (bounded); once the buffer is full, or the peer is unreachable, frames are
 * dropped — the caller's retry policy (resends, sync, SWIM's own timeouts) covers the loss.
 */
export class OutboundLink {
  readonly protocol: string
  readonly target: Multiaddr
  state: 'connecting' | 'open' | 'closed' = 'connecting'
  remotePeer: string | undefined
  rttMs: number | undefined
  #ctx: NodeContext
  #init: OutboundLinkInit
  #pending: Array<{ body: Uint8Array, items: number, tag: unknown }> = []
  #pendingBytes = 0
  #fs: FramedStream | undefined
  #abort = new AbortController()

  constructor (ctx: NodeContext, init: OutboundLinkInit) {
    this.#ctx = ctx
    this.#init = init
    this.protocol = init.protocol
    this.target = init.target
    void this.#connect()
  }

  /**
   * Queue one encoded message carrying `items` items; false when it was dropped (link closed or
   * congested). `tag` comes back through `onClose` if the message is dropped while connecting.
   */
  send (body: Uint8Array, items = 1, tag?: unknown): boolean {
    if (this.state === 'closed') return false
    if (this.state === 'connecting') {
      if (this.#pendingBytes + body.byteLength > this.#init.maxBufferBytes) return false
      this.#pending.push({ body, items, tag })
      this.#pendingBytes += body.byteLength
      return true
    }
    const fs = this.#fs
    if (fs == null || fs.closed) {
      this.close()
      return false
    }
    // The transport buffers past a drain signal; bound that buffer ourselves.
    if (fs.stream.writeBufferLength + body.byteLength > this.#init.maxBufferBytes) return false
    try {
      fs.sendFrame(body)
      return true
    } catch (err) {
      this.close(err as Error)
      return false
    }
  }

  /** Bytes waiting to be written. */
  get bufferedBytes (): number {
    return this.state === 'open' ? (this.#fs?.stream.writeBufferLength ?? 0) : this.#pendingBytes
  }

  /** Close the link (idempotent). */
  close (err?: Error): void {
    if (this.state === 'closed') return
    this.state = 'closed'
    this.#abort.abort()
    const dropped = this.#pending.reduce((n, p) => n + p.items, 0)
    const tags = this.#pending.map((p) => p.tag).filter((t) => t !== undefined)
    this.#pending = []
    this.#pendingBytes = 0
    const fs = this.#fs
    if (fs != null) {
      if (err != null) fs.abort(err)
      else void fs.close({ signal: AbortSignal.timeout(1000) })
    }
    this.#init.onClose(this, err, dropped, tags)
  }

  async #connect (): Promise<void> {
    try {
      const admitted = await this.#ctx.open(this.target, this.protocol, {
        signal: this.#abort.signal,
        ...(this.#init.dialTimeoutMs != null ? { timeoutMs: this.#init.dialTimeoutMs } : {})
      })
      if (this.state === 'closed') {
        admitted.fs.abort(new Error('link closed while connecting'))
        return
      }
      this.#fs = admitted.fs
      this.remotePeer = admitted.remotePeer
      this.rttMs = admitted.rttMs
      this.state = 'open'
      admitted.fs.stream.addEventListener('close', () => { this.close() })
      // The remote never writes on this stream after the handshake; any frame it sends is ignored
      // but read, so its flow-control window keeps moving.
      void this.#drainInbound(admitted.fs)
      const pending = this.#pending
      this.#pending = []
      this.#pendingBytes = 0
      for (const p of pending) if (!this.send(p.body, p.items, p.tag)) break
      this.#init.onOpen?.(this)
    } catch (err) {
      if (this.state !== 'closed') this.#ctx.reject(err, `dial ${this.protocol}`, this.target.toString())
      this.close(err as Error)
    }
  }

  async #drainInbound (fs: FramedStream): Promise<void> {
    try {
      while (await fs.nextFrame() != null) { /* ignored */ }
    } catch {}
  }
}

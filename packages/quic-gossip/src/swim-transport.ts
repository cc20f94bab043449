import type { Connection, Stream } from '@libp2p/interface'
import { peerIdOf, toMultiaddr, withoutPeerId } from './address.ts'
import { Tag, encodeMessage } from './codec.ts'
import { UnknownTagError } from './errors.ts'
import type { OutboundLink } from './link.ts'
import { LinkPool } from './link-pool.ts'
import type { NodeContext } from './node-context.ts'

/** Protocol id of the SWIM stream. */
export const SWIM_PROTOCOL = '/patina/swim/1.0.0'

/** Receives SWIM packets; `from` is the sender's advertised multiaddr ending in `/p2p/<id>`. */
export type PacketHandler = (bytes: Uint8Array, from: string) => void

/**
 * The port a sans-IO membership core uses to exchange packets. Sends are fire-and-forget like UDP:
 * a packet to an unreachable peer is dropped, so the core's own probe timeouts see it as dead.
 */
export interface SwimTransport {
  /** Send one packet to `addr` (multiaddr with or without `/p2p/<id>`, or `host:port`). */
  send: (addr: string, bytes: Uint8Array) => void
  /** Subscribe to inbound packets; returns the unsubscribe function. */
  onPacket: (handler: PacketHandler) => () => void
}

/** Options of {@link SwimLinks}. */
export interface SwimLinksInit {
  /** Largest packet accepted or sent. */
  maxPacketBytes: number
  /** Bytes buffered per link (packets beyond it are dropped, as a full socket would). */
  maxLinkBufferBytes: number
}

// After a failed dial, packets to that address are dropped for this long (a dead peer stays dead
// to the prober without a dial storm).
const REDIAL_BACKOFF_MS = 1000
// Packets queued behind a slow dial are stale once it exceeds a few probe periods: give up sooner
// than broadcast links do.
const SWIM_DIAL_TIMEOUT_MS = 2000

/** SWIM packets over {@link SWIM_PROTOCOL} on the node's QUIC connections. */
export class SwimLinks implements SwimTransport {
  readonly #ctx: NodeContext
  readonly #init: SwimLinksInit
  readonly #handlers = new Set<PacketHandler>()
  readonly #links: LinkPool
  readonly #outbox = new Map<string, Uint8Array[]>()
  #flushScheduled = false
  #running = false

  constructor (ctx: NodeContext, init: SwimLinksInit) {
    this.#ctx = ctx
    this.#init = init
    this.#links = new LinkPool(ctx, {
      protocol: SWIM_PROTOCOL,
      maxBufferBytes: init.maxLinkBufferBytes,
      dialTimeoutMs: Math.min(ctx.dialTimeoutMs, SWIM_DIAL_TIMEOUT_MS),
      redialBackoffMs: REDIAL_BACKOFF_MS,
      onClose: (_key, _err, dropped) => {
        if (dropped > 0) this.#ctx.stats.inc('swimDropped', dropped, { reason: 'unreachable' })
      }
    })
    this.send = this.send.bind(this)
    this.onPacket = this.onPacket.bind(this)
  }

  /** Open outbound SWIM links. */
  get links (): number {
    return this.#links.size
  }

  /** Begin SWIM packet exchange. */
  start (): void {
    this.#running = true
  }

  /** Stop SWIM packet exchange and close outbound links. */
  stop (): void {
    this.#running = false
    this.#outbox.clear()
    this.#links.closeAll()
  }

  /** Fire-and-forget, like UDP: dropped (and counted) when unreachable, too large or stopped. */
  send (addr: string, bytes: Uint8Array): void {
    const stats = this.#ctx.stats
    if (!this.#running || bytes.byteLength > this.#init.maxPacketBytes) {
      stats.inc('swimDropped', 1, { reason: this.#running ? 'too_large' : 'stopped' })
      return
    }
    let key: string
    try {
      const ma = toMultiaddr(addr)
      key = peerIdOf(ma) != null ? ma.toString() : withoutPeerId(ma)
    } catch (err) {
      stats.inc('swimDropped', 1, { reason: 'bad_address' })
      this.#ctx.log.warn({ err, addr }, 'swim send to an invalid address')
      return
    }
    let box = this.#outbox.get(key)
    if (box == null) this.#outbox.set(key, box = [])
    box.push(bytes)
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      // packets emitted in one turn (probe + piggyback) travel as one frame
      queueMicrotask(() => { this.#flush() })
    }
  }

  /** Subscribes to inbound packets; returns the unsubscribe function. */
  onPacket (handler: PacketHandler): () => void {
    this.#handlers.add(handler)
    return () => { this.#handlers.delete(handler) }
  }

  /** Serve one inbound SWIM stream until it ends. */
  async handleInbound (stream: Stream, connection: Connection): Promise<void> {
    let admitted
    try {
      admitted = await this.#ctx.accept(stream, connection, SWIM_PROTOCOL)
    } catch (err) {
      this.#ctx.reject(err, 'swim handshake', connection.remotePeer.toString())
      return
    }
    const { fs, remotePeer, remoteAddr } = admitted
    try {
      while (true) {
        const msg = await fs.next()
        if (msg == null) break
        if (msg.tag !== Tag.Swim) throw new UnknownTagError(`tag ${msg.tag} is not allowed on ${SWIM_PROTOCOL}`)
        if (!this.#running) continue
        for (const packet of msg.packets) {
          if (packet.byteLength > this.#init.maxPacketBytes) {
            this.#ctx.stats.inc('swimDropped', 1, { reason: 'too_large' })
            continue
          }
          this.#ctx.stats.inc('swimReceived')
          for (const h of this.#handlers) {
            try {
              h(packet, remoteAddr)
            } catch (err) {
              this.#ctx.log.error({ err }, 'swim packet handler threw')
            }
          }
        }
      }
      await fs.close({ signal: AbortSignal.timeout(1000) })
    } catch (err) {
      this.#ctx.reject(err, 'swim stream', remotePeer)
      fs.abort(err as Error)
    }
  }

  #flush (): void {
    this.#flushScheduled = false
    for (const [key, packets] of this.#outbox) {
      this.#outbox.delete(key)
      const link = this.#link(key)
      if (link == null || !link.send(encodeMessage({ tag: Tag.Swim, packets }), packets.length)) {
        this.#ctx.stats.inc('swimDropped', packets.length, { reason: link == null ? 'unreachable' : 'congested' })
      } else {
        this.#ctx.stats.inc('swimSent', packets.length)
      }
    }
  }

  #link (key: string): OutboundLink | undefined {
    return this.#links.get(key, () => toMultiaddr(key))
  }
}

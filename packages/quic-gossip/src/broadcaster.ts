import type { Connection, Stream } from '@libp2p/interface'
import { BroadcastScheduler } from './broadcast-scheduler.ts'
import type { PeerView } from './broadcast-scheduler.ts'
import { Tag, encodeMessage } from './codec.ts'
import type { BatchItem } from './codec.ts'
import { FrameTooLargeError, PayloadTooLargeError, UnknownTagError } from './errors.ts'
import type { OutboundLink } from './link.ts'
import { LinkPool } from './link-pool.ts'
import type { NodeContext } from './node-context.ts'
import type { PeerTable } from './peer-table.ts'
import { SeenCache } from './seen-cache.ts'
import { TokenBucket } from './token-bucket.ts'

/** Protocol id of the broadcast stream. */
export const BROADCAST_PROTOCOL = '/patina/broadcast/1.0.0'

/** Broadcast tuning (all optional in {@link GossipInit}). */
export interface BroadcastInit {
  /** Budget multiplier λ: at most `ceil(λ·log10(N+1))` sends per payload per node. Default 4. */
  lambda?: number
  /** Peers per round; the first round goes at once, nearest RTT ring first. Default 3. */
  fanout?: number
  /** Delay unit between re-send rounds (round r waits r units). Default 10 ms. */
  resendIntervalMs?: number
  /** Payloads held for (re-)sending; past it the most-sent is dropped. Default 20000. */
  maxQueue?: number
  /** Queue length above which `broadcast()` returns false. Default 0.8 × maxQueue. */
  highWaterMark?: number
  /** A peer's batch is flushed once it reaches this size. Default 64 KiB. */
  maxBatchBytes?: number
  /** Payload bytes sent per second, all peers together. Default 64 MiB/s. */
  rateBytesPerSec?: number
  /** Keys remembered for duplicate suppression. Default 200000. */
  seenCacheSize?: number
  /** Largest payload `broadcast()` accepts. Default 1 MiB. */
  maxPayloadBytes?: number
  /** Bytes buffered per outbound link before frames are dropped. Default 8 MiB. */
  maxLinkBufferBytes?: number
  /** Skip an item's remaining re-send rounds after this many duplicates of it arrived (0 = never). Default 0. */
  stopAfterDuplicates?: number
  /**
   * While the node has at most this many peers, its own payloads go straight to every peer (one
   * hop) and receivers relay nothing, instead of an epidemic that delivers each payload about
   * `ceil(λ·log10(N+1))` times per node. Larger clusters gossip as usual. 0 = always gossip.
   * Default 16 (the peers a holder hint can name).
   */
  directMax?: number
  /**
   * Coalescing window under load. A frame to a peer goes out at the end of the event-loop turn when
   * nothing was flushed in the last `flushDelayMs`; otherwise it waits for the window to end, so
   * busy nodes send fewer, fuller frames (less per-frame work on both ends) while an idle node adds
   * no delay. 0 = flush every turn. Default 0.
   */
  flushDelayMs?: number
}

/** Metadata passed with a delivered payload. */
export interface PayloadMeta {
  key: string
  /** Peer id of the neighbour that sent it. */
  from: string
}

/** Receives each new payload once; return `false` for "not new to me" (no re-broadcast). */
export type PayloadHandler = (payload: Uint8Array, meta: PayloadMeta) => boolean | undefined | void

/** One new payload of a received frame, as a {@link BatchPayloadHandler} gets it. */
export interface ReceivedPayload {
  payload: Uint8Array
  meta: PayloadMeta
}

/**
 * Receives the new payloads of one frame together (e.g. to store them in one transaction); returns
 * one verdict per item, `false` for "not new to me" (no re-broadcast). Nothing returned = all new.
 */
export type BatchPayloadHandler = (items: readonly ReceivedPayload[]) => ReadonlyArray<boolean | undefined | void> | undefined | void

// After a failed dial, frames for that peer are dropped for this long instead of re-dialing.
const REDIAL_BACKOFF_MS = 1000
// Items dropped on the way to an unreachable peer are re-queued for other peers this many times.
const MAX_RETRIES = 2
// A re-send may run up to this much after its due time when that lets it share an armed timer,
// which saves re-arming a timer per received item.
const TIMER_SLACK_MS = 2
// How soon to look again when every link is congested.
const CONGESTION_RECHECK_MS = 5

/** Epidemic broadcast over {@link BROADCAST_PROTOCOL}. */
export class Broadcaster {
  readonly #ctx: NodeContext
  readonly #peers: PeerTable
  readonly #cfg: Required<BroadcastInit>
  readonly #scheduler: BroadcastScheduler
  readonly #seen: SeenCache
  readonly #bucket: TokenBucket
  readonly #handlers = new Set<PayloadHandler>()
  readonly #batchHandlers = new Set<BatchPayloadHandler>()
  #lastFlushAt = -Infinity
  readonly #links: LinkPool
  readonly #batches = new Map<string, { items: BatchItem[], bytes: number }>()
  // hint bytes per holder list: the sends of one round share one list, so encode it once
  #hintCache = new WeakMap<readonly string[], Uint8Array>()
  #flushScheduled = false
  #timer: ReturnType<typeof setTimeout> | undefined
  #timerAt = Infinity
  #waiters: Array<() => void> = []
  #running = false
  // key → times re-queued after a drop (bounded: cleared when it grows large)
  readonly #retries = new Map<string, number>()

  constructor (ctx: NodeContext, peers: PeerTable, cfg: Required<BroadcastInit>) {
    this.#ctx = ctx
    this.#peers = peers
    this.#cfg = cfg
    this.#scheduler = new BroadcastScheduler({
      lambda: cfg.lambda, fanout: cfg.fanout, resendIntervalMs: cfg.resendIntervalMs, maxQueue: cfg.maxQueue, random: ctx.random, directMax: cfg.directMax,
      stopAfterDuplicates: cfg.stopAfterDuplicates
    })
    this.#links = new LinkPool(ctx, {
      protocol: BROADCAST_PROTOCOL,
      maxBufferBytes: cfg.maxLinkBufferBytes,
      redialBackoffMs: REDIAL_BACKOFF_MS,
      onOpen: (peer, l) => { if (l.rttMs != null) this.#peers.noteRtt(peer, l.rttMs) },
      onClose: (peer, _err, dropped, tags) => {
        if (dropped > 0) this.#ctx.stats.inc('payloadsDropped', dropped, { reason: 'unreachable' })
        for (const items of tags) this.#requeue(items as BatchItem[], peer)
      }
    })
    this.#seen = new SeenCache(cfg.seenCacheSize)
    this.#bucket = new TokenBucket(cfg.rateBytesPerSec, Math.max(cfg.rateBytesPerSec / 10, cfg.maxPayloadBytes), performance.now())
  }

  /** Payloads queued for (re-)sending. */
  get queued (): number {
    return this.#scheduler.size
  }

  /** Open outbound links. */
  get links (): number {
    return this.#links.size
  }

  /** Begin broadcasting. */
  start (): void {
    this.#running = true
  }

  /** Stop broadcasting and close outbound links. */
  stop (): void {
    this.#running = false
    if (this.#timer != null) clearTimeout(this.#timer)
    this.#timer = undefined
    this.#timerAt = Infinity
    this.#scheduler.clear()
    this.#batches.clear()
    this.#retries.clear()
    this.#links.closeAll()
    for (const w of this.#waiters.splice(0)) w()
  }

  /** Close links to peers that left the alive set, or whose address changed. */
  prune (): void {
    for (const [peer, link] of [...this.#links.entries()]) {
      const addr = this.#peers.addrOf(peer)
      if (addr == null || !addr.equals(link.target)) link.close()
    }
    this.#links.forgetFailures((peer) => this.#peers.has(peer))
  }

  /** Register a payload handler; returns its unsubscribe function. */
  onPayload (handler: PayloadHandler): () => void {
    this.#handlers.add(handler)
    return () => { this.#handlers.delete(handler) }
  }

  /** Register a handler that gets each frame's new payloads at once; returns its unsubscribe function. */
  onPayloads (handler: BatchPayloadHandler): () => void {
    this.#batchHandlers.add(handler)
    return () => { this.#batchHandlers.delete(handler) }
  }

  /** Originate a payload. False = above the high-water mark; slow down. */
  broadcast (key: string, payload: Uint8Array): boolean {
    if (payload.byteLength > this.#cfg.maxPayloadBytes) {
      throw new PayloadTooLargeError(`payload of ${payload.byteLength} bytes exceeds broadcast.maxPayloadBytes (${this.#cfg.maxPayloadBytes})`)
    }
    this.#seen.add(key)
    const dropped = this.#scheduler.enqueue(key, payload, performance.now(), [], true)
    if (dropped > 0) this.#ctx.stats.inc('payloadsDropped', dropped, { reason: 'queue_full' })
    this.#pump()
    return this.#scheduler.size < this.#cfg.highWaterMark
  }

  /** Resolves once the queue is below its high-water mark. */
  async waitForCapacity (options?: { signal?: AbortSignal }): Promise<void> {
    options?.signal?.throwIfAborted()
    if (this.#scheduler.size < this.#cfg.highWaterMark || !this.#running) return
    await new Promise<void>((resolve, reject) => {
      const onAbort = (): void => { reject(options?.signal?.reason) }
      options?.signal?.addEventListener('abort', onAbort, { once: true })
      this.#waiters.push(() => {
        options?.signal?.removeEventListener('abort', onAbort)
        resolve()
      })
    })
  }

  /** Mark a key as seen without delivering it (e.g. the store got it through sync). */
  markSeen (key: string): void {
    this.#seen.add(key)
  }

  /** Serve one inbound broadcast stream until it ends. */
  async handleInbound (stream: Stream, connection: Connection): Promise<void> {
    let admitted
    try {
      admitted = await this.#ctx.accept(stream, connection, BROADCAST_PROTOCOL)
    } catch (err) {
      this.#ctx.reject(err, 'broadcast handshake', connection.remotePeer.toString())
      return
    }
    const { fs, remotePeer } = admitted
    try {
      while (true) {
        const msg = await fs.next()
        if (msg == null) break
        if (msg.tag !== Tag.Batch) throw new UnknownTagError(`tag ${msg.tag} is not allowed on ${BROADCAST_PROTOCOL}`)
        // checked for the whole batch first, so an oversized item changes nothing
        for (const [key, payload] of msg.items) {
          if (payload.byteLength > this.#cfg.maxPayloadBytes) {
            throw new FrameTooLargeError(`payload "${key.slice(0, 64)}" of ${payload.byteLength} bytes exceeds broadcast.maxPayloadBytes (${this.#cfg.maxPayloadBytes})`)
          }
        }
        this.#receive(msg.items, remotePeer)
      }
      await fs.close({ signal: AbortSignal.timeout(1000) })
    } catch (err) {
      this.#ctx.reject(err, 'broadcast stream', remotePeer)
      fs.abort(err as Error)
    }
  }

  #receive (items: BatchItem[], from: string): void {
    if (!this.#running) return
    const stats = this.#ctx.stats
    const now = performance.now()
    stats.inc('framesReceived')
    stats.inc('payloadsReceived', items.length)
    const fresh: BatchItem[] = []
    let duplicates = 0
    // (index loops and no destructuring: this runs for every payload received, duplicates included)
    for (let k = 0; k < items.length; k++) {
      const item = items[k]!
      const key = item[0]
      if (!this.#seen.add(key)) {
        duplicates++
        this.#scheduler.noteDuplicate(key)
        this.#scheduler.noteHolder(key, from)
        const hinted = this.#peers.decodeHint(item[2])
        for (let h = 0; h < hinted.length; h++) this.#scheduler.noteHolder(key, hinted[h]!)
        continue
      }
      fresh.push(item)
    }
    if (duplicates > 0) stats.inc('duplicates', duplicates)
    if (fresh.length === 0) { this.#pump(); return }
    const isNew: boolean[] = fresh.map(() => true)
    if (this.#batchHandlers.size > 0) {
      const received = fresh.map((item) => ({ payload: item[1], meta: { key: item[0], from } }))
      for (const h of this.#batchHandlers) {
        try {
          const verdicts = h(received)
          if (verdicts != null) for (let i = 0; i < fresh.length; i++) if (verdicts[i] === false) isNew[i] = false
        } catch (err) {
          this.#ctx.log.error({ err, items: fresh.length }, 'payload handler threw')
        }
      }
    }
    for (let i = 0; i < fresh.length; i++) {
      const item = fresh[i]!
      const key = item[0]
      const payload = item[1]
      for (const h of this.#handlers) {
        try {
          if (h(payload, { key, from }) === false) isNew[i] = false
        } catch (err) {
          this.#ctx.log.error({ err, key }, 'payload handler threw')
        }
      }
      if (isNew[i] === true) {
        const holders = this.#peers.decodeHint(item[2])
        // every peer holds it already (a direct round, ADR 0007): nothing to relay, nothing to queue
        const covered = holders.length + (this.#peers.has(from) && !holders.includes(from) ? 1 : 0)
        if (covered >= this.#peers.size) continue
        holders.unshift(from)
        const dropped = this.#scheduler.enqueue(key, payload, now, holders)
        if (dropped > 0) stats.inc('payloadsDropped', dropped, { reason: 'queue_full' })
      }
    }
    stats.inc('payloadsDelivered', fresh.length)
    this.#pump()
  }

  #pump (): void {
    if (!this.#running) return
    const now = performance.now()
    const peers = this.#uncongested()
    if (peers.length === 0 && this.#peers.size > 0 && this.#scheduler.size > 0) {
      // every link is backed up: hold items in the (bounded) queue until they drain
      this.#arm(now + CONGESTION_RECHECK_MS, now)
      return
    }
    const tokens = this.#bucket.available(now)
    const { sends, blocked } = tokens > 0
      ? this.#scheduler.take(now, peers, tokens)
      : { sends: [], blocked: (this.#scheduler.nextDueAt() ?? Infinity) <= now }
    for (const s of sends) {
      this.#bucket.spend(s.payload.byteLength, now)
      let batch = this.#batches.get(s.peer)
      if (batch == null) this.#batches.set(s.peer, batch = { items: [], bytes: 0 })
      let hint = this.#hintCache.get(s.holders)
      if (hint == null) {
        hint = this.#peers.encodeHint(s.holders)
        this.#hintCache.set(s.holders, hint)
      }
      batch.items.push([s.key, s.payload, hint])
      batch.bytes += s.payload.byteLength + s.key.length + hint.byteLength + 8
      if (batch.bytes >= this.#cfg.maxBatchBytes) this.#flushPeer(s.peer)
    }
    if (sends.length > 0) this.#ctx.stats.inc('payloadsSent', sends.length)
    if (this.#batches.size > 0 && !this.#flushScheduled) {
      this.#flushScheduled = true
      // one flush per event-loop turn: everything queued in this turn shares a frame per peer;
      // within the coalescing window of the last flush, wait for the window's end instead
      const flush = (): void => {
        this.#flushScheduled = false
        this.#lastFlushAt = performance.now()
        for (const peer of [...this.#batches.keys()]) this.#flushPeer(peer)
      }
      const wait = this.#lastFlushAt + this.#cfg.flushDelayMs - now
      if (wait > 0) setTimeout(flush, wait)
      else setImmediate(flush)
    }
    const due = blocked ? now + this.#bucket.waitMs(this.#cfg.maxBatchBytes, now) : this.#scheduler.nextDueAt()
    this.#arm(due, now)
    if (this.#waiters.length > 0 && this.#scheduler.size < this.#cfg.highWaterMark) {
      for (const w of this.#waiters.splice(0)) w()
    }
  }

  // Peers whose link is not backed up. A congested peer is skipped (not waited for), so one slow
  // peer cannot stall the others; it catches up through them or through sync.
  #uncongested (): PeerView[] {
    const all = this.#peers.views()
    const limit = this.#cfg.maxLinkBufferBytes / 2
    let congested = false
    for (const [, link] of this.#links.entries()) {
      if (link.bufferedBytes > limit) { congested = true; break }
    }
    if (!congested) return all
    return all.filter((p) => (this.#links.peek(p.id)?.bufferedBytes ?? 0) <= limit)
  }

  #arm (due: number | undefined, now: number): void {
    if (due == null) return
    if (this.#timer != null && this.#timerAt <= due + TIMER_SLACK_MS) return
    if (this.#timer != null) clearTimeout(this.#timer)
    this.#timerAt = due
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.#timerAt = Infinity
      this.#pump()
    }, Math.max(0, due - now))
  }

  #flushPeer (peer: string): void {
    const batch = this.#batches.get(peer)
    if (batch == null) return
    this.#batches.delete(peer)
    const link = this.#link(peer)
    if (link == null || !link.send(encodeMessage({ tag: Tag.Batch, items: batch.items }), batch.items.length, batch.items)) {
      this.#ctx.stats.inc('payloadsDropped', batch.items.length, { reason: link == null ? 'unreachable' : 'congested' })
      this.#requeue(batch.items, peer)
    } else {
      this.#ctx.stats.inc('framesSent')
    }
  }

  // Give each send that could not reach `peer` back to the scheduler, to be spent on another peer
  // after a delay, a bounded number of times per key (so an unreachable cluster can't spin).
  #requeue (items: BatchItem[], peer: string): void {
    if (!this.#running) return
    if (this.#retries.size > this.#cfg.maxQueue) this.#retries.clear()
    const now = performance.now()
    for (const [key, payload] of items) {
      const n = this.#retries.get(key) ?? 0
      if (n >= MAX_RETRIES) continue
      this.#retries.set(key, n + 1)
      const dropped = this.#scheduler.retry(key, payload, peer, now + this.#cfg.resendIntervalMs * (n + 1) * 5)
      if (dropped > 0) this.#ctx.stats.inc('payloadsDropped', dropped, { reason: 'queue_full' })
    }
    this.#arm(this.#scheduler.nextDueAt(), now)
  }

  #link (peer: string): OutboundLink | undefined {
    return this.#links.get(peer, () => this.#peers.addrOf(peer))
  }
}

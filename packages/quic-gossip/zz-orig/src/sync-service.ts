import type { Connection, Stream } from '@libp2p/interface'
import { RejectReason, Tag } from './codec.ts'
import type { Message } from './codec.ts'
import { FrameTooLargeError, MalformedFrameError, SyncRejectedError, UnknownTagError } from './errors.ts'
import type { FramedStream } from './framed-stream.ts'
import type { AdmittedStream, NodeContext } from './node-context.ts'
import type { PeerTable } from './peer-table.ts'
import type { RemoteSummary, SyncPort, SyncRoundReport } from './sync-port.ts'

/** Protocol id of the sync stream. */
export const SYNC_PROTOCOL = '/patina/sync/1.0.0'

/** Anti-entropy tuning (all optional in {@link GossipInit}). */
export interface SyncInit {
  /** Shortest pause between rounds. Default 1000 ms. */
  minIntervalMs?: number
  /** Longest pause between rounds (the pause is uniform in between). Default 15000 ms. */
  maxIntervalMs?: number
  /** Run rounds on a timer after `start()`. Default true. */
  auto?: boolean
  /** Peers per round at least (if that many are alive). Default 3. */
  minPeers?: number
  /** Peers per round at most; in between it is N/100. Default 10. */
  maxPeers?: number
  /** Sessions served at once; more are refused as busy. Default 3. */
  maxConcurrentServed?: number
  /** A whole round (client) or session (server) is cut off after this. Default 300000 ms. */
  roundTimeoutMs?: number
  /** Longest wait for any one frame inside a session. Default 5000 ms. */
  readTimeoutMs?: number
  /** Largest chunk served or accepted. Default 4 MiB. */
  maxChunkBytes?: number
}

/** Anti-entropy over {@link SYNC_PROTOCOL}. */
export class SyncService {
  readonly #ctx: NodeContext
  readonly #peers: PeerTable
  readonly #cfg: Required<SyncInit>
  #port: SyncPort | undefined
  #serving = 0
  #timer: ReturnType<typeof setTimeout> | undefined
  #round: Promise<SyncRoundReport> | undefined
  #running = false
  #stopper = new AbortController()
  readonly #lastSync = new Map<string, number>()

  constructor (ctx: NodeContext, peers: PeerTable, cfg: Required<SyncInit>) {
    this.#ctx = ctx
    this.#peers = peers
    this.#cfg = cfg
  }

  /** Plug in the store's port. */
  attach (port: SyncPort): void {
    this.#port = port
  }

  /** Begin anti-entropy. */
  start (): void {
    this.#running = true
    this.#stopper = new AbortController()
    if (this.#cfg.auto) this.#schedule()
  }

  /** Stop anti-entropy; waits for the round in progress to end. */
  async stop (): Promise<void> {
    this.#running = false
    this.#stopper.abort()
    if (this.#timer != null) clearTimeout(this.#timer)
    this.#timer = undefined
    await this.#round?.catch(() => {})
  }

  #schedule (): void {
    if (!this.#running) return
    const { minIntervalMs: lo, maxIntervalMs: hi } = this.#cfg
    const delay = lo + this.#ctx.random() * Math.max(0, hi - lo)
    this.#timer = setTimeout(() => {
      this.#timer = undefined
      this.syncNow().catch((err: unknown) => { this.#ctx.log.warn({ err }, 'sync round failed') }).finally(() => { this.#schedule() })
    }, delay)
  }

  /** Run one round now (joins the round in progress, if any). */
  async syncNow (options?: { signal?: AbortSignal }): Promise<SyncRoundReport> {
    options?.signal?.throwIfAborted()
    this.#round ??= this.#runRound(options?.signal).finally(() => { this.#round = undefined })
    return await this.#round
  }

  #choosePeers (): string[] {
    const all = this.#peers.views().map((p) => p.id)
    const desired = Math.min(all.length, Math.max(this.#cfg.minPeers, Math.min(this.#cfg.maxPeers, Math.round(all.length / 100))))
    // sample twice as many at random, then prefer those we synced with least recently
    const pool = all.slice()
    const sampleSize = Math.min(pool.length, desired * 2)
    for (let i = 0; i < sampleSize; i++) {
      const j = i + Math.floor(this.#ctx.random() * (pool.length - i))
      const t = pool[i] as string
      pool[i] = pool[j] as string
      pool[j] = t
    }
    return pool.slice(0, sampleSize)
      .sort((a, b) => (this.#lastSync.get(a) ?? 0) - (this.#lastSync.get(b) ?? 0))
      .slice(0, desired)
  }

  async #runRound (signal?: AbortSignal): Promise<SyncRoundReport> {
    const started = performance.now()
    const report: SyncRoundReport = { peers: 0, peersSynced: 0, chunks: 0, bytes: 0, errors: 0, durationMs: 0 }
    const port = this.#port
    if (port == null) return report
    const roundSignal = AbortSignal.any([AbortSignal.timeout(this.#cfg.roundTimeoutMs), this.#stopper.signal, ...(signal != null ? [signal] : [])])
    const chosen = this.#choosePeers()
    report.peers = chosen.length
    const sessions = await Promise.all(chosen.map(async (peer) => await this.#openSession(peer, roundSignal, report)))
    const open = sessions.filter((s): s is { admitted: AdmittedStream, summary: Uint8Array } => s != null)
    try {
      const byPeer = await this.#plan(port, open.map((s) => ({ peer: s.admitted.remotePeer, summary: s.summary })), report)
      await Promise.all(open.map(async (s) => {
        await this.#pull(s.admitted, byPeer.get(s.admitted.remotePeer), port, roundSignal, report)
      }))
    } finally {
      for (const s of open) if (!s.admitted.fs.closed) s.admitted.fs.abort(new Error('sync round ended'))
    }
    report.durationMs = performance.now() - started
    this.#ctx.stats.inc('syncRounds')
    this.#ctx.stats.observe('gossip_sync_round_ms', report.durationMs)
    return report
  }

  // Ask the store what to fetch from whom. If it rejects the set (one peer sent a summary it can't
  // read), ask per peer so one bad summary costs only that peer's session.
  async #plan (port: SyncPort, remotes: RemoteSummary[], report: SyncRoundReport): Promise<Map<string, Uint8Array>> {
    if (remotes.length === 0) return new Map()
    try {
      return new Map((await port.needs(remotes)).map((p) => [p.peer, p.needs]))
    } catch (err) {
      this.#ctx.log.debug({ err }, 'store rejected the summaries together; retrying one by one')
    }
    const out = new Map<string, Uint8Array>()
    for (const r of remotes) {
      try {
        for (const p of await port.needs([r])) out.set(p.peer, p.needs)
      } catch (err) {
        report.errors++
        this.#ctx.stats.inc('syncErrors')
        this.#ctx.stats.inc('framesRejected', 1, { reason: 'bad_summary' })
        this.#ctx.log.warn({ peer: r.peer, err: (err as Error).message }, 'unreadable sync summary from peer')
      }
    }
    return out
  }

  async #openSession (peer: string, signal: AbortSignal, report: SyncRoundReport): Promise<{ admitted: AdmittedStream, summary: Uint8Array } | undefined> {
    const target = this.#peers.addrOf(peer)
    if (target == null) return undefined
    let admitted: AdmittedStream | undefined
    try {
      admitted = await this.#ctx.open(target, SYNC_PROTOCOL, { signal })
      const msg = await this.#read(admitted.fs, signal)
      if (msg.tag === Tag.Reject) throw new SyncRejectedError(`peer refused sync: ${msg.message}`)
      if (msg.tag !== Tag.Summary) throw new UnknownTagError(`expected a summary, got tag ${msg.tag}`)
      return { admitted, summary: msg.summary }
    } catch (err) {
      report.errors++
      this.#ctx.stats.inc('syncErrors')
      if ((err as Error).name === 'SyncRejectedError') this.#ctx.log.debug({ peer }, (err as Error).message)
      else this.#ctx.reject(err, 'sync open', peer)
      admitted?.fs.abort(err as Error)
      return undefined
    }
  }

  async #pull (admitted: AdmittedStream, needs: Uint8Array | undefined, port: SyncPort, signal: AbortSignal, report: SyncRoundReport): Promise<void> {
    const { fs, remotePeer } = admitted
    try {
      if (needs == null || needs.byteLength === 0) {
        fs.send({ tag: Tag.Done })
        await fs.close({ signal })
        report.peersSynced++
        this.#lastSync.set(remotePeer, performance.now())
        return
      }
      fs.send({ tag: Tag.Needs, needs })
      while (true) {
        const msg = await this.#read(fs, signal)
        if (msg.tag === Tag.Done) break
        if (msg.tag !== Tag.Chunk) throw new UnknownTagError(`expected a chunk, got tag ${msg.tag}`)
        if (msg.chunk.byteLength > this.#cfg.maxChunkBytes) throw new FrameTooLargeError(`chunk of ${msg.chunk.byteLength} bytes exceeds sync.maxChunkBytes`)
        await port.apply(msg.chunk)
        report.chunks++
        report.bytes += msg.chunk.byteLength
        this.#ctx.stats.inc('syncChunksReceived')
      }
      await fs.close({ signal })
      report.peersSynced++
      this.#lastSync.set(remotePeer, performance.now())
    } catch (err) {
      report.errors++
      this.#ctx.stats.inc('syncErrors')
      this.#ctx.reject(err, 'sync pull', remotePeer)
      fs.abort(err as Error)
    }
  }

  async #read (fs: FramedStream, signal: AbortSignal): Promise<Message> {
    const msg = await fs.next({ signal, timeoutMs: this.#cfg.readTimeoutMs })
    if (msg == null) throw new MalformedFrameError('sync stream ended early')
    return msg
  }

  /** Serve one inbound sync session. */
  async handleInbound (stream: Stream, connection: Connection): Promise<void> {
    let admitted: AdmittedStream
    try {
      admitted = await this.#ctx.accept(stream, connection, SYNC_PROTOCOL)
    } catch (err) {
      this.#ctx.reject(err, 'sync handshake', connection.remotePeer.toString())
      return
    }
    const { fs, remotePeer } = admitted
    const port = this.#port
    if (port == null || this.#serving >= this.#cfg.maxConcurrentServed || !this.#running) {
      if (port != null) this.#ctx.stats.inc('syncBusy')
      fs.send({ tag: Tag.Reject, reason: port == null ? RejectReason.NoSync : RejectReason.Busy, message: port == null ? 'no sync port attached' : 'too many sync sessions' })
      await fs.close({ signal: AbortSignal.timeout(1000) })
      return
    }
    this.#serving++
    const signal = AbortSignal.any([AbortSignal.timeout(this.#cfg.roundTimeoutMs), this.#stopper.signal])
    try {
      fs.send({ tag: Tag.Summary, summary: await port.summary() })
      const msg = await this.#read(fs, signal)
      if (msg.tag === Tag.Needs) {
        for await (const chunk of port.serve(msg.needs, { signal })) {
          if (chunk.byteLength > this.#cfg.maxChunkBytes) throw new FrameTooLargeError(`store served a chunk of ${chunk.byteLength} bytes, over sync.maxChunkBytes`)
          if (!fs.send({ tag: Tag.Chunk, chunk })) await fs.drain({ signal })
          this.#ctx.stats.inc('syncChunksServed')
        }
        fs.send({ tag: Tag.Done })
      } else if (msg.tag !== Tag.Done) {
        throw new UnknownTagError(`expected needs, got tag ${msg.tag}`)
      }
      await fs.close({ signal })
    } catch (err) {
      this.#ctx.reject(err, 'sync serve', remotePeer)
      fs.abort(err as Error)
    } finally {
      this.#serving--
    }
  }
}

import type { Connection, Stream } from '@libp2p/interface'
import { RejectReason, Tag } from './codec.ts'
import type { Message } from './codec.ts'
import { FrameTooLargeError, MalformedFrameError, SyncRejectedError, UnknownTagError } from './errors.ts'
import type { FramedStream } from './framed-stream.ts'
import type { AdmittedStream, NodeContext } from './node-context.ts'
import type { PeerTable } from './peer-table.ts'
import { sample } from './sample.ts'
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
  /**
   * A session that ended cleanly leaves its stream open for the next session with the same peer
   * (opening a stream, negotiating the protocol and admitting the peer cost more than a quiet
   * session itself). Both sides close such a stream after it has been idle this long. Default 60000 ms.
   */
  idleTimeoutMs?: number
}

// Streams kept for reuse at most (client side; one per peer, least recently used closed first).
const MAX_PARKED = 64

// Streams waiting for a next session at most (server side; one per peer, oldest closed first).
const MAX_IDLE_SERVED = 256

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
  readonly #watched = new WeakSet<FramedStream>()
  // Streams whose last session ended cleanly, by peer, with the time they were parked.
  readonly #parked = new Map<string, { admitted: AdmittedStream, at: number }>()
  // Server side: the one stream per peer waiting for its next session, and streams we closed
  // because a newer one replaced them.
  readonly #idleServed = new Map<string, FramedStream>()
  readonly #superseded = new WeakSet<FramedStream>()

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
    for (const { admitted } of this.#parked.values()) closeGently(admitted.fs)
    this.#parked.clear()
  }

  /** Keep a stream whose session ended cleanly for the next session with that peer (or close it). */
  #park (admitted: AdmittedStream): void {
    if (!this.#running || admitted.fs.ended) {
      closeGently(admitted.fs)
      return
    }
    this.#parked.delete(admitted.remotePeer)
    this.#parked.set(admitted.remotePeer, { admitted, at: performance.now() })
    // the peer ends it while parked (its idle timeout, shutdown): close our side too, at once
    // (one listener per stream, however often it is parked)
    if (!this.#watched.has(admitted.fs)) {
      this.#watched.add(admitted.fs)
      admitted.fs.stream.addEventListener('remoteCloseWrite', () => {
        if (this.#parked.get(admitted.remotePeer)?.admitted !== admitted) return
        this.#parked.delete(admitted.remotePeer)
        closeGently(admitted.fs)
      }, { once: true })
    }
    if (this.#parked.size > MAX_PARKED) {
      const [peer, oldest] = this.#parked.entries().next().value!
      this.#parked.delete(peer)
      closeGently(oldest.admitted.fs)
    }
  }

  /** A parked stream to `peer` that is still usable, if any (stale ones are dropped). */
  #unpark (peer: string): AdmittedStream | undefined {
    const p = this.#parked.get(peer)
    if (p == null) return undefined
    this.#parked.delete(peer)
    // stale a little before the peer's own idle timeout, so Again rarely crosses its close
    const fresh = performance.now() - p.at < this.#cfg.idleTimeoutMs - Math.min(this.#cfg.readTimeoutMs, this.#cfg.idleTimeoutMs / 2)
    if (!p.admitted.fs.ended && fresh) return p.admitted
    closeGently(p.admitted.fs)
    return undefined
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
    return sample(all, desired * 2, this.#ctx.random)
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
    const pulled = new Set<FramedStream>()
    try {
      const byPeer = await this.#plan(port, open.map((s) => ({ peer: s.admitted.remotePeer, summary: s.summary })), report)
      await Promise.all(open.map(async (s) => {
        await this.#pull(s.admitted, byPeer.get(s.admitted.remotePeer), port, roundSignal, report)
        pulled.add(s.admitted.fs)
      }))
    } finally {
      // a session that pulled has parked or aborted its stream; any other ends with the round
      for (const s of open) {
        if (!pulled.has(s.admitted.fs) && !s.admitted.fs.closed) s.admitted.fs.abort(new Error('sync round ended'))
      }
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
    let admitted = this.#unpark(peer)
    if (admitted != null) {
      const reused = await this.#resume(admitted, signal, report)
      if (reused !== 'closed') return reused
      admitted = undefined
    }
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

  /**
   * Start another session on a parked stream. `'closed'` when the peer had closed it meanwhile (idle
   * timeout, restart: open a fresh one); a refusal or bad frames fail the session as on a new stream.
   */
  async #resume (admitted: AdmittedStream, signal: AbortSignal, report: SyncRoundReport): Promise<{ admitted: AdmittedStream, summary: Uint8Array } | undefined | 'closed'> {
    const { fs, remotePeer } = admitted
    try {
      fs.send({ tag: Tag.Again })
      const msg = await fs.next({ signal, timeoutMs: this.#cfg.readTimeoutMs })
      if (msg == null) {
        fs.abort(new Error('parked sync stream was closed by the peer'))
        return 'closed'
      }
      if (msg.tag === Tag.Reject) throw new SyncRejectedError(`peer refused sync: ${msg.message}`)
      if (msg.tag !== Tag.Summary) throw new UnknownTagError(`expected a summary, got tag ${msg.tag}`)
      this.#ctx.stats.inc('syncSessionsReused')
      return { admitted, summary: msg.summary }
    } catch (err) {
      const name = (err as Error).name
      // the stream was reset under us (not by bad frames or silence): the peer let it go
      const reset = fs.ended && !signal.aborted && !REJECTED_ON_RESUME.has(name)
      fs.abort(err as Error)
      if (reset) return 'closed'
      report.errors++
      this.#ctx.stats.inc('syncErrors')
      if (name === 'SyncRejectedError') this.#ctx.log.debug({ peer: remotePeer }, (err as Error).message)
      else this.#ctx.reject(err, 'sync resume', remotePeer)
      return undefined
    }
  }

  /** Fetch and apply what the peer holds for us; the stream ends parked, or aborted on failure. */
  async #pull (admitted: AdmittedStream, needs: Uint8Array | undefined, port: SyncPort, signal: AbortSignal, report: SyncRoundReport): Promise<void> {
    const { fs, remotePeer } = admitted
    try {
      if (needs == null || needs.byteLength === 0) {
        fs.send({ tag: Tag.Done })
        this.#park(admitted)
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
        try {
          await port.apply(msg.chunk)
        } catch (err) {
          throw storeRejected(err, 'chunk')
        }
        report.chunks++
        report.bytes += msg.chunk.byteLength
        this.#ctx.stats.inc('syncChunksReceived')
      }
      this.#park(admitted)
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

  /**
   * Serve inbound sync sessions on one stream: the first at once, then one per `Again` from the
   * client, until it closes the stream or leaves it idle for `idleTimeoutMs`.
   */
  async handleInbound (stream: Stream, connection: Connection): Promise<void> {
    let admitted: AdmittedStream
    try {
      admitted = await this.#ctx.accept(stream, connection, SYNC_PROTOCOL)
    } catch (err) {
      this.#ctx.reject(err, 'sync handshake', connection.remotePeer.toString())
      return
    }
    const { fs, remotePeer } = admitted
    try {
      while (await this.#serveSession(fs)) {
        const msg = await this.#awaitAgain(fs, remotePeer)
        if (msg == null) break
        if (msg.tag !== Tag.Again) throw new UnknownTagError(`expected another session or the end, got tag ${msg.tag}`)
      }
      await fs.close({ signal: AbortSignal.timeout(1000) })
    } catch (err) {
      this.#ctx.reject(err, 'sync serve', remotePeer)
      fs.abort(err as Error)
    }
  }

  // The client's next move on a stream at rest: null when it closes the stream, stays quiet for
  // idleTimeoutMs, opens a newer stream (one waits per peer), or we stop. Bad frames still throw.
  async #awaitAgain (fs: FramedStream, peer: string): Promise<Message | null> {
    const older = this.#idleServed.get(peer)
    if (older != null && older !== fs) this.#retire(older, 'superseded by a newer sync stream from the same peer')
    this.#idleServed.set(peer, fs)
    if (this.#idleServed.size > MAX_IDLE_SERVED) {
      const [oldestPeer, oldest] = this.#idleServed.entries().next().value!
      this.#idleServed.delete(oldestPeer)
      this.#retire(oldest, 'too many idle sync streams')
    }
    const idle = AbortSignal.timeout(this.#cfg.idleTimeoutMs)
    try {
      return await fs.next({ signal: AbortSignal.any([this.#stopper.signal, idle]) })
    } catch (err) {
      if (idle.aborted || this.#stopper.signal.aborted || this.#superseded.has(fs)) return null
      throw err
    } finally {
      if (this.#idleServed.get(peer) === fs) this.#idleServed.delete(peer)
    }
  }

  // End an idle served stream on our side; its #awaitAgain then returns null instead of throwing.
  #retire (fs: FramedStream, why: string): void {
    this.#superseded.add(fs)
    fs.abort(new Error(why))
  }

  /** Serve one session; true when it ended cleanly and the stream may carry another. */
  async #serveSession (fs: FramedStream): Promise<boolean> {
    const port = this.#port
    if (port == null || this.#serving >= this.#cfg.maxConcurrentServed || !this.#running) {
      if (port != null) this.#ctx.stats.inc('syncBusy')
      fs.send({ tag: Tag.Reject, reason: port == null ? RejectReason.NoSync : RejectReason.Busy, message: port == null ? 'no sync port attached' : 'too many sync sessions' })
      return false
    }
    this.#serving++
    const signal = AbortSignal.any([AbortSignal.timeout(this.#cfg.roundTimeoutMs), this.#stopper.signal])
    try {
      fs.send({ tag: Tag.Summary, summary: await port.summary() })
      const msg = await this.#read(fs, signal)
      if (msg.tag === Tag.Needs) {
        for await (const chunk of servedChunks(port, msg.needs, signal)) {
          if (chunk.byteLength > this.#cfg.maxChunkBytes) throw new FrameTooLargeError(`store served a chunk of ${chunk.byteLength} bytes, over sync.maxChunkBytes`)
          if (!fs.send({ tag: Tag.Chunk, chunk })) await fs.drain({ signal })
          this.#ctx.stats.inc('syncChunksServed')
        }
        fs.send({ tag: Tag.Done })
      } else if (msg.tag !== Tag.Done) {
        throw new UnknownTagError(`expected needs, got tag ${msg.tag}`)
      }
      return true
    } finally {
      this.#serving--
    }
  }
}

// The store judges the bytes a peer sent (needs, chunks): whatever it throws for them counts as
// rejected input from that peer, whatever the store's own error class is called.
function storeRejected (err: unknown, what: string): Error {
  if (FRAME_INPUT_ERRORS.has((err as Error | undefined)?.name ?? '')) return err as Error
  return new MalformedFrameError(`the store rejected a sync ${what}: ${(err as Error | undefined)?.message ?? String(err)}`, { cause: err })
}

const FRAME_INPUT_ERRORS = new Set(['MalformedFrameError', 'FrameTooLargeError', 'UnknownTagError'])

// Close our side cleanly, resetting the stream if the peer does not follow within a second.
function closeGently (fs: FramedStream): void {
  void fs.close({ signal: AbortSignal.timeout(1000) })
}

// Failures of a resumed session that are the peer's doing, not a stream it closed.
const REJECTED_ON_RESUME = new Set([...FRAME_INPUT_ERRORS, 'StreamTimeoutError', 'SyncRejectedError'])

// The store's chunks, with its errors (e.g. unreadable needs) marked as rejected peer input.
async function * servedChunks (port: SyncPort, needs: Uint8Array, signal: AbortSignal): AsyncIterable<Uint8Array> {
  let it: Iterator<Uint8Array> | AsyncIterator<Uint8Array>
  try {
    const src = port.serve(needs, { signal })
    it = Symbol.asyncIterator in src ? src[Symbol.asyncIterator]() : src[Symbol.iterator]()
  } catch (err) {
    throw storeRejected(err, 'needs')
  }
  let done = false
  try {
    while (true) {
      let r: IteratorResult<Uint8Array>
      try {
        r = await it.next()
      } catch (err) {
        done = true
        throw storeRejected(err, 'needs')
      }
      if (r.done === true) { done = true; return }
      yield r.value
    }
  } finally {
    // the session ended early: let the store release what it holds (cursors, transactions)
    if (!done) await it.return?.()
  }
}

/**
 * Start-up catch-up: local writes wait until this node has completed one anti-entropy round with a
 * peer. A node brought back from a snapshot of itself (`restore --keep-actor-id`), or one whose
 * last commits were lost with its WAL, has a head older than versions its peers already hold; a
 * write numbered before it learns them would reuse a version number, and the two transactions
 * behind that number would never replicate. The round fetches this node's own versions back
 * (the store moves its head past them), so the next write gets a fresh number.
 */
// pause between rounds that reached no peer
const RETRY_MS = 250

/** What the gate needs from the running node. */
export interface CatchUpPeers {
  /** True while some member is alive (there is someone to sync with). */
  anyAlive(): boolean
  /** One full anti-entropy round; resolves with how many peers completed their session. */
  syncRound(): Promise<number>
  /** Calls `fn` when membership changes; returns an unsubscribe. */
  onMembership(fn: () => void): () => void
}

/** Options of `catchUpGate`. */
export interface CatchUpInit {
  peers: CatchUpPeers
  /** Give up waiting for a peer after this long and accept writes anyway (ms). */
  timeoutMs: number
  /**
   * Peers one round must complete with before writes open (default 1). Two guard against the one
   * peer being another node just restored from an old snapshot, lacking the same versions.
   */
  peersNeeded?: number
  logger?: { info: (obj: object, msg: string) => void, warn: (obj: object, msg: string) => void }
  /** Clock (ms), for the log's figures. */
  now?: () => number
}

/** Holds local writes until the node has caught up (or given up trying). */
export interface CatchUpGate {
  /** True once writes may go ahead. */
  readonly open: boolean
  /** Resolves when writes may go ahead; rejects with the signal's reason if it aborts first. */
  wait(signal?: AbortSignal): Promise<void>
  /** Stops trying (node stopping): opens the gate. */
  close(): void
}

/** A gate that is open from the start (a node with nobody to catch up from). */
export function openGate (): CatchUpGate {
  return { open: true, wait: async (signal) => { signal?.throwIfAborted() }, close () {} }
}

/**
 * Starts catching up now: as soon as a member is alive, runs sync rounds until one completes with
 * `peersNeeded` peers; after `timeoutMs` without that, opens anyway and says so in the log.
 */
export function catchUpGate (init: CatchUpInit): CatchUpGate {
  const now = init.now ?? Date.now
  const needed = Math.max(1, init.peersNeeded ?? 1)
  const t0 = now()
  let open = false
  let release!: () => void
  const opened = new Promise<void>(resolve => { release = resolve })
  let running = false
  let retry: NodeJS.Timeout | undefined
  let unsubscribe: () => void = () => {}
  const finish = (): void => {
    if (open) return
    open = true
    clearTimeout(timer)
    clearTimeout(retry)
    unsubscribe()
    release()
  }
  const timer = setTimeout(() => {
    if (open) return
    init.logger?.warn({ waitedMs: now() - t0 }, 'no peer to catch up from: accepting writes (versions this node lost before it started, if any, may be numbered again)')
    finish()
  }, init.timeoutMs)
  timer.unref()
  const attempt = (): void => {
    if (open || running || !init.peers.anyAlive()) return
    running = true
    const again = (): void => {
      running = false
      // a peer alive in membership may not be reachable yet: try again shortly (or on the next
      // membership change, or give up at the timeout)
      clearTimeout(retry)
      retry = setTimeout(attempt, RETRY_MS)
      retry.unref()
    }
    init.peers.syncRound().then(synced => {
      if (synced >= needed) {
        running = false
        init.logger?.info({ ms: now() - t0, peers: synced }, 'caught up with the cluster: accepting writes')
        finish()
      } else {
        again()
      }
    }, again)
  }
  unsubscribe = init.peers.onMembership(attempt)
  attempt()
  return {
    get open () { return open },
    async wait (signal) {
      if (open) return
      signal?.throwIfAborted()
      if (signal === undefined) return await opened
      await new Promise<void>((resolve, reject) => {
        const onAbort = (): void => { reject(signal.reason) }
        signal.addEventListener('abort', onAbort, { once: true })
        void opened.then(() => { signal.removeEventListener('abort', onAbort); resolve() })
      })
    },
    close: finish
  }
}

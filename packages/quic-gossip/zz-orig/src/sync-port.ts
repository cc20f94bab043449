/** Summary received from one peer during a sync round. */
export interface RemoteSummary {
  /** Peer id of the peer that sent it. */
  peer: string
  summary: Uint8Array
}

/** What to request from one peer. */
export interface PeerNeeds {
  peer: string
  needs: Uint8Array
}

/**
 * The anti-entropy port a store implements. Payload formats are the store's own; this package
 * only moves the bytes.
 */
export interface SyncPort {
  /** A compact description of what this store holds (e.g. a version vector with gaps). */
  summary: () => Uint8Array | Promise<Uint8Array>
  /**
   * Given the summaries of several peers, what to ask each for. Splitting disjointly spreads the
   * load; an empty or missing entry means "nothing from that peer".
   */
  needs: (remotes: RemoteSummary[]) => PeerNeeds[] | Promise<PeerNeeds[]>
  /** Stream the data a peer asked for, in chunks of at most `sync.maxChunkBytes`. */
  serve: (needs: Uint8Array, options?: { signal?: AbortSignal }) => Iterable<Uint8Array> | AsyncIterable<Uint8Array>
  /** Apply one chunk (idempotent: the same data may also arrive by broadcast). */
  apply: (chunk: Uint8Array) => void | Promise<void>
}

/** Outcome of one sync round. */
export interface SyncRoundReport {
  /** Peers contacted. */
  peers: number
  /** Peers that completed their session. */
  peersSynced: number
  /** Chunks applied. */
  chunks: number
  /** Chunk bytes applied. */
  bytes: number
  /** Sessions that failed (dial, rejection, timeout, bad frames, apply errors). */
  errors: number
  durationMs: number
}

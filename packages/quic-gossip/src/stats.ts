/**
 * Metrics hooks, injected (the agent adapts them to prom-client). Names are listed in the README.
 */
export interface GossipMetrics {
  /** Add `value` (default 1) to a counter. */
  increment (name: string, value?: number, labels?: Record<string, string>): void
  /** Record one observation of a histogram. */
  observe (name: string, value: number, labels?: Record<string, string>): void
}

/** Snapshot of the node's counters. */
export interface GossipStats {
  /** Payload sends to peers (one per peer per payload). */
  payloadsSent: number
  /** Payloads received from peers, duplicates included. */
  payloadsReceived: number
  /** Payloads handed to the application (first sight of a key). */
  payloadsDelivered: number
  /** Broadcast frames sent (each carries one or more payloads for one peer). */
  framesSent: number
  /** Broadcast frames received. */
  framesReceived: number
  /** Received payloads whose key had been seen already. */
  duplicates: number
  /** Payloads dropped: queue overflow, congested link, too large. */
  payloadsDropped: number
  /** Payloads queued for (re-)sending right now. */
  queued: number
  bytesSent: number
  bytesReceived: number
  /** Frames refused: malformed, too large, unknown tag, timeouts. */
  framesRejected: number
  /** Streams refused at admission (cluster id, secret, allow-list) on either side. */
  admissionRejected: number
  syncRounds: number
  syncChunksReceived: number
  syncChunksServed: number
  syncErrors: number
  /** Sync sessions refused because too many were being served. */
  syncBusy: number
  /** Sync sessions run on the stream of an earlier session with the same peer (client side). */
  syncSessionsReused: number
  swimSent: number
  swimReceived: number
  swimDropped: number
  /** Currently open outbound links (broadcast + SWIM). */
  links: number
}

/** Creates a zeroed stats object. */
export function emptyStats (): GossipStats {
  return {
    payloadsSent: 0,
    payloadsReceived: 0,
    payloadsDelivered: 0,
    framesSent: 0,
    framesReceived: 0,
    duplicates: 0,
    payloadsDropped: 0,
    queued: 0,
    bytesSent: 0,
    bytesReceived: 0,
    framesRejected: 0,
    admissionRejected: 0,
    syncRounds: 0,
    syncChunksReceived: 0,
    syncChunksServed: 0,
    syncErrors: 0,
    syncBusy: 0,
    syncSessionsReused: 0,
    swimSent: 0,
    swimReceived: 0,
    swimDropped: 0,
    links: 0
  }
}

type CounterField = Exclude<keyof GossipStats, 'queued' | 'links'>

const METRIC_NAMES: Record<CounterField, string> = {
  payloadsSent: 'gossip_payloads_sent',
  payloadsReceived: 'gossip_payloads_received',
  payloadsDelivered: 'gossip_payloads_delivered',
  framesSent: 'gossip_frames_sent',
  framesReceived: 'gossip_frames_received',
  duplicates: 'gossip_duplicates',
  payloadsDropped: 'gossip_payloads_dropped',
  bytesSent: 'gossip_bytes_sent',
  bytesReceived: 'gossip_bytes_received',
  framesRejected: 'gossip_frames_rejected',
  admissionRejected: 'gossip_admission_rejected',
  syncRounds: 'gossip_sync_rounds',
  syncChunksReceived: 'gossip_sync_chunks_received',
  syncChunksServed: 'gossip_sync_chunks_served',
  syncErrors: 'gossip_sync_errors',
  syncBusy: 'gossip_sync_busy',
  syncSessionsReused: 'gossip_sync_sessions_reused',
  swimSent: 'gossip_swim_sent',
  swimReceived: 'gossip_swim_received',
  swimDropped: 'gossip_swim_dropped'
}

/** Counters kept locally and mirrored to the injected metrics. */
export class StatsRecorder {
  readonly counters = emptyStats()
  readonly #metrics: GossipMetrics | undefined

  constructor (metrics?: GossipMetrics) {
    this.#metrics = metrics
  }

  /** Add `n` to a counter (and its metric). */
  inc (field: CounterField, n = 1, labels?: Record<string, string>): void {
    this.counters[field] += n
    this.#metrics?.increment(METRIC_NAMES[field], n, labels)
  }

  /** Record a histogram observation. */
  observe (name: 'gossip_rtt_ms' | 'gossip_sync_round_ms', value: number): void {
    this.#metrics?.observe(name, value)
  }
}

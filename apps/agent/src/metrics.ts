import { createServer, type Server } from 'node:http'
import { Registry, Counter, Gauge, Histogram, collectDefaultMetrics } from 'prom-client'
import { parseHostPort } from './config.ts'

/** The agent's Prometheus metrics. */
export interface AgentMetrics {
  registry: Registry
  changesCommitted: Counter<'source'>
  changesetsApplied: Counter<'source' | 'result'>
  gossipSent: Counter
  gossipReceived: Counter
  gossipFrames: Counter<'direction'>
  gossipDropped: Counter<'reason'>
  syncRounds: Counter<'result'>
  syncSessionsReused: Counter
  gaps: Gauge
  /** Payloads waiting in gossip's broadcast queue. */
  gossipQueued: Gauge
  members: Gauge<'state'>
  applyLag: Histogram
  apiRequests: Counter<'route' | 'status'>
  /** Called at scrape time to refresh gauges (gaps, members). */
  onCollect(fn: () => void): void
}

/** Creates the metric set on a fresh (or given) registry. */
export function createMetrics (init: { registry?: Registry; defaultMetrics?: boolean } = {}): AgentMetrics {
  const registry = init.registry ?? new Registry()
  if (init.defaultMetrics === true) collectDefaultMetrics({ register: registry, prefix: 'patina_process_' })
  const collectors: Array<() => void> = []
  const refresh = (): void => { for (const fn of collectors) { try { fn() } catch { /* a failing figure never breaks a scrape */ } } }
  const gaps = new Gauge({ name: 'patina_gaps', help: 'Total missing versions across all actors', registers: [registry], collect: refresh })
  return {
    registry,
    changesCommitted: new Counter({ name: 'patina_changes_committed_total', help: 'Transactions committed (local) or applied (remote) that changed rows', labelNames: ['source'], registers: [registry] }),
    changesetsApplied: new Counter({ name: 'patina_changesets_applied_total', help: 'Changesets handed to the store, by source (gossip, sync) and result (new, known, error)', labelNames: ['source', 'result'], registers: [registry] }),
    gossipSent: new Counter({ name: 'patina_gossip_sent_total', help: 'Payload sends to peers by broadcast (one per peer per payload, this node\'s own and relayed)', registers: [registry] }),
    gossipReceived: new Counter({ name: 'patina_gossip_received_total', help: 'Payloads received by gossip', registers: [registry] }),
    gossipFrames: new Counter({ name: 'patina_gossip_frames_total', help: 'Broadcast frames sent or received (payloads per frame = sent or received payloads / frames)', labelNames: ['direction'], registers: [registry] }),
    gossipDropped: new Counter({ name: 'patina_gossip_dropped_total', help: 'Payloads dropped (malformed, rejected, partitioned)', labelNames: ['reason'], registers: [registry] }),
    syncSessionsReused: new Counter({ name: 'patina_sync_sessions_reused_total', help: 'Sync sessions run on the kept stream of an earlier session with the same peer', registers: [registry] }),
    syncRounds: new Counter({ name: 'patina_sync_rounds_total', help: 'Anti-entropy sync rounds', labelNames: ['result'], registers: [registry] }),
    gaps,
    gossipQueued: new Gauge({ name: 'patina_gossip_queued', help: 'Payloads queued for (re-)broadcast', registers: [registry] }),
    members: new Gauge({ name: 'patina_members', help: 'Cluster members by state', labelNames: ['state'], registers: [registry] }),
    applyLag: new Histogram({ name: 'patina_apply_lag_seconds', help: 'Time from commit on the origin node to apply here', buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60], registers: [registry] }),
    apiRequests: new Counter({ name: 'patina_api_requests_total', help: 'HTTP API requests', labelNames: ['route', 'status'], registers: [registry] }),
    onCollect (fn) { collectors.push(fn) }
  }
}

/** Serves `GET /metrics` (and `/`) from a registry. */
export async function serveMetrics (registry: Registry, addr: string, options?: { signal?: AbortSignal }): Promise<{ server: Server; address: string; close(): Promise<void> }> {
  const { host, port } = parseHostPort('telemetry.prometheus.addr', addr)
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url !== '/metrics' && req.url !== '/')) {
      res.writeHead(404).end('not found\n')
      return
    }
    registry.metrics().then(body => {
      res.writeHead(200, { 'content-type': registry.contentType }).end(body)
    }, (err: unknown) => {
      res.writeHead(500).end(String(err))
    })
  })
  options?.signal?.throwIfAborted()
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => { server.off('error', reject); resolve() })
  })
  const a = server.address()
  const address = typeof a === 'object' && a !== null ? `${host}:${a.port}` : addr
  return {
    server,
    address,
    close: async () => { await new Promise<void>(resolve => { server.close(() => { resolve() }); server.closeAllConnections() }) }
  }
}

/** Most apply-lag samples a {@link LagWindow} keeps. */
const MAX_LAG_SAMPLES = 100_000

/** Rolling window of apply-lag samples for `/v1/health` (p99 over the last 120 s). */
export class LagWindow {
  private readonly samples: Array<{ at: number; lag: number }> = []
  private readonly windowMs: number
  constructor (windowMs = 120_000) { this.windowMs = windowMs }
  /** Records a lag (seconds) observed at `now` (ms). */
  add (now: number, lagSeconds: number): void {
    this.samples.push({ at: now, lag: lagSeconds })
    // past the cap, drop the older half at once: trimming one sample per add would shift the
    // whole array on every changeset of a node under steady load (~1000/s fill the cap in 2 min)
    if (this.samples.length > MAX_LAG_SAMPLES) this.samples.splice(0, MAX_LAG_SAMPLES / 2)
  }
  /** The p99 over the window ending at `now`, or null without samples. */
  p99 (now: number): number | null {
    let i = 0
    while (i < this.samples.length && (this.samples[i]?.at ?? 0) < now - this.windowMs) i++
    if (i > 0) this.samples.splice(0, i)
    if (this.samples.length === 0) return null
    const sorted = this.samples.map(s => s.lag).sort((a, b) => a - b)
    return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? null
  }
}

import type { AgentMetrics } from '../metrics.ts'

/** The metrics hook shape quic-gossip calls. */
export interface GossipMetricsHook {
  increment(name: string, value?: number, labels?: Record<string, string>): void
  observe(name: string, value: number, labels?: Record<string, string>): void
}

/** Maps quic-gossip's counter names onto the agent's Prometheus metrics. */
export function gossipMetricsAdapter (m: AgentMetrics): GossipMetricsHook {
  return {
    increment (name, value = 1, labels) {
      switch (name) {
        case 'gossip_payloads_sent': m.gossipSent.inc(value); break
        case 'gossip_payloads_received': m.gossipReceived.inc(value); break
        case 'gossip_frames_sent': m.gossipFrames.inc({ direction: 'sent' }, value); break
        case 'gossip_frames_received': m.gossipFrames.inc({ direction: 'received' }, value); break
        case 'gossip_payloads_dropped': m.gossipDropped.inc({ reason: labels?.reason ?? 'unknown' }, value); break
        case 'gossip_frames_rejected': m.gossipDropped.inc({ reason: `frame:${labels?.reason ?? 'unknown'}` }, value); break
        case 'gossip_admission_rejected': m.gossipDropped.inc({ reason: `admission:${labels?.reason ?? 'unknown'}` }, value); break
        case 'gossip_sync_rounds': m.syncRounds.inc({ result: 'ok' }, value); break
        case 'gossip_sync_errors': m.syncRounds.inc({ result: 'error' }, value); break
        case 'gossip_sync_sessions_reused': m.syncSessionsReused.inc(value); break
        default: break
      }
    },
    observe () { /* RTT and round durations are not exported yet */ }
  }
}

// 20 nodes in one process over QUIC on 127.0.0.1; 1000 broadcasts from random nodes, paced;
// for each payload, the time until the last node has it. Baseline: time until the first peer has it.
import { createGossipNode } from '../src/index.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import { pause, quantile, report } from './bench-util.ts'

const NODES = Number(process.env.NODES ?? 20)
const COUNT = Number(process.env.COUNT ?? 1000)
const RATE = Number(process.env.RATE ?? 50) // broadcasts per second (all nodes together)

const broadcast = {
  ...(process.env.FANOUT != null ? { fanout: Number(process.env.FANOUT) } : {}),
  ...(process.env.RESEND_MS != null ? { resendIntervalMs: Number(process.env.RESEND_MS) } : {})
}
const cluster = await startCluster(NODES, async (init) => await createGossipNode({ ...init, broadcast, sync: { auto: false } }))
const sentAt = new Map<string, number>()
const firstAt = new Map<string, number>()
const lastAt = new Map<string, number>()
const holders = new Map<string, number>()
for (const m of cluster) {
  m.node.onPayload((_payload, { key }) => {
    const now = performance.now()
    if (!firstAt.has(key)) firstAt.set(key, now)
    const n = (holders.get(key) ?? 0) + 1
    holders.set(key, n)
    if (n === NODES - 1) lastAt.set(key, now)
  })
}
// warm-up: until every node has a link to every peer (a first dial costs a QUIC and an admission
// handshake, which is not what we measure)
let warmed = 0
await waitFor(() => {
  for (const m of cluster) {
    const p = m.store.write(new Uint8Array(8))
    m.node.broadcast(MemoryVersionStore.keyOf(p), p)
    warmed++
  }
  return cluster.every((m) => m.node.stats().links >= NODES - 1)
}, { timeoutMs: 30_000, intervalMs: 50 }).catch(() => {})
await waitFor(() => cluster.every((m) => m.store.size === warmed), { timeoutMs: 30_000 }).catch(() => {})
sentAt.clear(); firstAt.clear(); lastAt.clear(); holders.clear()

const started = performance.now()
for (let i = 0; i < COUNT; i++) {
  const m = cluster[Math.floor(Math.random() * NODES)]
  if (m == null) continue
  const payload = m.store.write(new Uint8Array(128))
  const key = MemoryVersionStore.keyOf(payload)
  sentAt.set(key, performance.now())
  m.node.broadcast(key, payload)
  const due = started + ((i + 1) * 1000) / RATE
  const wait = due - performance.now()
  if (wait > 0) await pause(wait)
}
await waitFor(() => lastAt.size === COUNT, { timeoutMs: 30_000 }).catch(() => {})
const last: number[] = []
const first: number[] = []
for (const [key, t0] of sentAt) {
  const t1 = lastAt.get(key)
  if (t1 != null) last.push(t1 - t0)
  const f = firstAt.get(key)
  if (f != null) first.push(f - t0)
}
const firstP50 = quantile(first, 0.5)
report('gossip-latency', 'all_nodes_p50', quantile(last, 0.5), 'ms', firstP50)
report('gossip-latency', 'all_nodes_p99', quantile(last, 0.99), 'ms', firstP50)
report('gossip-latency', 'all_nodes_max', Math.max(...last), 'ms', firstP50)
report('gossip-latency', 'complete_by_broadcast', last.length / COUNT, 'fraction', 1)
await stopCluster(cluster)

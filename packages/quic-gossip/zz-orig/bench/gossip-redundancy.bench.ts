// Cost of the transmit budget: receptions and sends per node per payload, N nodes over QUIC.
// Baseline: the budget ceil(λ·log10(N+1)) that bounds sends per node per payload.
import { createGossipNode, transmitBudget } from '../src/index.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import { pause, report } from './bench-util.ts'

const NODES = Number(process.env.NODES ?? 20)
const COUNT = Number(process.env.COUNT ?? 300)
const LAMBDA = 4

const cluster = await startCluster(NODES, async (init) => await createGossipNode({ ...init, broadcast: { lambda: LAMBDA }, sync: { auto: false } }))
const before = cluster.map((m) => m.node.stats())
for (let i = 0; i < COUNT; i++) {
  const m = cluster[i % NODES]
  if (m == null) continue
  const payload = m.store.write(new Uint8Array(64))
  m.node.broadcast(MemoryVersionStore.keyOf(payload), payload)
  if (i % 20 === 19) await pause(10)
}
await waitFor(() => cluster.every((m) => m.store.size === COUNT && m.node.stats().queued === 0), { timeoutMs: 15_000 }).catch(() => {})
let received = 0
let sent = 0
let dups = 0
let have = 0
cluster.forEach((m, i) => {
  const s = m.node.stats()
  const b = before[i]
  received += s.payloadsReceived - (b?.payloadsReceived ?? 0)
  sent += s.payloadsSent - (b?.payloadsSent ?? 0)
  dups += s.duplicates - (b?.duplicates ?? 0)
  have += m.store.size
})
const budget = transmitBudget(LAMBDA, NODES)
report('gossip-redundancy', `receptions_per_node_per_payload_n${NODES}`, received / NODES / COUNT, 'count', budget)
report('gossip-redundancy', `sends_per_node_per_payload_n${NODES}`, sent / NODES / COUNT, 'count', budget)
report('gossip-redundancy', `duplicates_per_node_per_payload_n${NODES}`, dups / NODES / COUNT, 'count', budget)
report('gossip-redundancy', `coverage_by_broadcast_n${NODES}`, have / (NODES * COUNT), 'fraction', 1)
await stopCluster(cluster)

// CPU cost of gossip: process CPU time per payload reception (all nodes in one process, so the
// figure covers sending, relaying and receiving). Less sensitive to a busy machine than latency.
// Baseline: the transmit budget, against receptions per node per payload.
import { createGossipNode, transmitBudget } from '../src/index.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import { pause, report } from './bench-util.ts'

const NODES = Number(process.env.NODES ?? 10)
const COUNT = Number(process.env.COUNT ?? 3000)

const cluster = await startCluster(NODES, async (init) => await createGossipNode({ ...init, sync: { auto: false } }))
for (const m of cluster) {
  const p = m.store.write(new Uint8Array(8))
  m.node.broadcast(MemoryVersionStore.keyOf(p), p)
}
await waitFor(() => cluster.every((m) => m.store.size === NODES), { timeoutMs: 20_000 }).catch(() => {})
const received0 = cluster.reduce((a, m) => a + m.node.stats().payloadsReceived, 0)
const cpu0 = process.cpuUsage()
for (let i = 0; i < COUNT; i++) {
  const m = cluster[i % NODES]
  if (m == null) continue
  const p = m.store.write(new Uint8Array(100))
  m.node.broadcast(MemoryVersionStore.keyOf(p), p)
  if (i % 10 === 9) await pause(2)
}
await waitFor(() => cluster.every((m) => m.store.size === NODES + COUNT), { timeoutMs: 30_000 }).catch(() => {})
const cpu = process.cpuUsage(cpu0)
const received = cluster.reduce((a, m) => a + m.node.stats().payloadsReceived, 0) - received0
report('gossip-cpu', `cpu_us_per_reception_n${NODES}`, (cpu.user + cpu.system) / received, 'us')
report('gossip-cpu', `receptions_per_node_per_payload_n${NODES}`, received / NODES / COUNT, 'count', transmitBudget(4, NODES))
await stopCluster(cluster)

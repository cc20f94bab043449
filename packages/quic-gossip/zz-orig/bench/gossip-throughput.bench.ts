// Sustained broadcast from one node to 10 peers (which relay within their budget): payloads/s and
// MiB/s until every peer holds every payload. Baseline: payload bytes/s as offered by the sender.
import { createGossipNode } from '../src/index.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import { report } from './bench-util.ts'

const PEERS = 10
const COUNT = Number(process.env.COUNT ?? 8000)
const SIZE = Number(process.env.SIZE ?? 1024)
const MAX_MS = 20_000

const cluster = await startCluster(PEERS + 1, async (init) => await createGossipNode({ ...init, sync: { auto: false } }))
const [sender, ...receivers] = cluster
if (sender == null) throw new Error('no sender')
// warm the links
const warm = sender.store.write(new Uint8Array(1))
sender.node.broadcast(MemoryVersionStore.keyOf(warm), warm)
await waitFor(() => receivers.every((m) => m.store.size === 1), { timeoutMs: 20_000 }).catch(() => {})

const t0 = performance.now()
let offered = 0
for (let i = 0; i < COUNT && performance.now() - t0 < MAX_MS; i++) {
  const payload = sender.store.write(new Uint8Array(SIZE))
  if (!sender.node.broadcast(MemoryVersionStore.keyOf(payload), payload)) await sender.node.waitForCapacity()
  offered++
  if (i % 256 === 255) await new Promise((resolve) => setImmediate(resolve)) // let the I/O run
}
const offeredSec = (performance.now() - t0) / 1000
await waitFor(() => receivers.every((m) => m.store.size >= offered + 1), { timeoutMs: 60_000 }).catch(() => {})
const seconds = (performance.now() - t0) / 1000
const delivered = Math.min(...receivers.map((m) => m.store.size - 1))
const mib = (delivered * SIZE) / (1024 * 1024)
report('gossip-throughput', 'payloads_per_sec', delivered / seconds, 'payloads/s', offered / offeredSec)
report('gossip-throughput', 'mib_per_sec', mib / seconds, 'MiB/s', (offered * SIZE) / (1024 * 1024) / offeredSec)
report('gossip-throughput', 'delivered_fraction', delivered / offered, 'fraction', 1)
report('gossip-throughput', 'sender_dropped', sender.node.stats().payloadsDropped, 'count', 0)
await stopCluster(cluster)

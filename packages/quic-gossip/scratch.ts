import { createGossipNode } from './src/index.ts'
import { startCluster, stopCluster } from './src/testing/cluster.ts'
import { waitFor } from './src/testing/wait-for.ts'
import { MemoryVersionStore } from './src/testing/memory-version-store.ts'
const N = Number(process.argv[2] ?? 10), P = Number(process.argv[3] ?? 1000)
const c = await startCluster(N, (init) => createGossipNode({ ...init, sync: { auto: false } }))
// warm links
for (const m of c) { const q = m.store.write(new Uint8Array(10)); m.node.broadcast(MemoryVersionStore.keyOf(q), q) }
const order0: string[] = []
await waitFor(() => c.every(m => m.store.size === N), { timeoutMs: 5000 }).catch(() => {})
const t = performance.now(); const order: string[] = []; const origin = new Map<string, number>()
for (let i = 0; i < P; i++) { const m = c[Math.floor(Math.random() * N)]!; const q = m.store.write(new Uint8Array(100)); const k = MemoryVersionStore.keyOf(q); order.push(k); origin.set(k, c.indexOf(m)); m.node.broadcast(k, q); if (i % 50 === 0) await new Promise(r => setTimeout(r, 5)) }
await waitFor(() => c.every(m => m.store.size === N + P), { timeoutMs: 3000 }).catch(() => {})
const missing = c.reduce((a, m) => a + (N + P - m.store.size), 0); console.log("dropped", c.map(m => m.node.stats().payloadsDropped), "sizes", c.map(m => m.store.size))
console.log({ N, P, ms: performance.now() - t, missing, dupsPerNodePerPayload: c.reduce((a, m) => a + m.node.stats().duplicates, 0) / N / (N + P), recvPerNodePerPayload: c.reduce((a, m) => a + m.node.stats().payloadsReceived, 0) / N / (N + P) })
const allKeys = new Map<string, number>(); let idx = 0
for (const k of order) allKeys.set(k, idx++)
for (const m of c) for (const k of order) if (!m.store.has(k)) console.log('missing', allKeys.get(k), 'at', c.indexOf(m), 'from', origin.get(k), 'delivered?', m.delivered.includes(k))
await stopCluster(c)

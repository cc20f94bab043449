import { createGossipNode } from './src/index.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from './src/testing/index.ts'
const msgs = new Map<string, number>()
const logger = { debug: (o: any, m?: string) => { const k = 'D ' + m + ' ' + (o?.where ?? '') + ' ' + String(o?.err ?? '').slice(0, 80); msgs.set(k, (msgs.get(k) ?? 0) + 1) }, info () {}, warn: (o: any, m?: string) => { const k = 'W ' + m + ' ' + (o?.where ?? '') + String(o?.err ?? '').slice(0, 80); msgs.set(k, (msgs.get(k) ?? 0) + 1) }, error: (o: any, m?: string) => { const k = 'E ' + m; msgs.set(k, (msgs.get(k) ?? 0) + 1) } }
const N = 20
const c = await startCluster(N, async (init) => await createGossipNode({ ...init, logger, sync: { auto: false } }))
for (const m of c) { const p = m.store.write(new Uint8Array(8)); m.node.broadcast(MemoryVersionStore.keyOf(p), p) }
await waitFor(() => c.every((m) => m.store.size === N), { timeoutMs: 20_000 })
console.log('links', c.map(m => m.node.stats().links).join(','))
for (let i = 0; i < 1000; i++) { const m = c[i % N]!; const p = m.store.write(new Uint8Array(128)); m.node.broadcast(MemoryVersionStore.keyOf(p), p); if (i % 5 === 0) await new Promise(r => setTimeout(r, 20)) }
await waitFor(() => c.every((m) => m.store.size === N + 1000), { timeoutMs: 20_000 })
console.log('links', c.map(m => m.node.stats().links).join(','))
console.log(msgs)
console.log('conns', c.map(m => m.node.libp2p.getConnections().length).join(','))
await stopCluster(c)

// A node missing 100k small payloads catches up from 3 peers by anti-entropy alone.
// Baseline: the same summary → needs → serve → apply pipeline store-to-store in memory (no network).
import { createGossipNode } from '../src/index.ts'
import { MemoryVersionStore, startCluster, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import { report } from './bench-util.ts'

const COUNT = Number(process.env.COUNT ?? 100_000)
const SIZE = 32
const factory = async (init: object) => await createGossipNode({ ...init, sync: { auto: false } })

const peers = await startCluster(3, factory)
const writer = new MemoryVersionStore({ origin: 'writer' })
for (let i = 0; i < COUNT; i++) {
  const data = new Uint8Array(SIZE)
  data[0] = i & 0xff
  const payload = writer.write(data)
  for (const p of peers) p.store.applyBroadcast(payload)
}

// baseline: in-process pipeline
const local = new MemoryVersionStore()
let t = performance.now()
const plan = local.needs(peers.map((p, i) => ({ peer: String(i), summary: p.store.summary() })))
for (const p of plan) for (const chunk of (peers[Number(p.peer)]?.store ?? writer).serve(p.needs)) local.apply(chunk)
const localRate = COUNT / ((performance.now() - t) / 1000)

const late = await startMember(factory)
late.node.setMembers(peers.map((p) => ({ addr: p.node.multiaddrs[0] ?? '', peerId: p.node.peerId })))
t = performance.now()
let rounds = 0
let bytes = 0
await waitFor(async () => {
  const r = await late.node.syncNow()
  rounds++
  bytes += r.bytes
  return late.store.size === COUNT
}, { timeoutMs: 120_000, intervalMs: 1 })
const seconds = (performance.now() - t) / 1000
report('sync-catchup', 'payloads_per_sec', COUNT / seconds, 'payloads/s', localRate)
report('sync-catchup', 'catchup_seconds', seconds, 's')
report('sync-catchup', 'rounds', rounds, 'count', 1)
report('sync-catchup', 'bytes_per_payload', bytes / COUNT, 'B', SIZE)
await stopCluster([...peers, late])

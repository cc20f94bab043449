import { afterEach, describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import type { GossipInit, GossipMetrics } from '../src/index.ts'
import { MemoryVersionStore, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'

let running: ClusterMember[] = []
afterEach(async () => {
  await stopCluster(running)
  running = []
})

describe('SWIM transport', () => {
  it('drops packets to a dead peer without throwing, like UDP', async () => {
    const a = await startMember(async (init) => await createGossipNode({ ...init, dialTimeoutMs: 1000 }))
    const b = await startMember(async (init) => await createGossipNode(init))
    running.push(a, b)
    const addrB = b.node.multiaddrs[0] ?? ''
    const got: string[] = []
    b.node.swimTransport.onPacket((_bytes, from) => { got.push(from) })
    // like UDP, a packet may be lost (here: to a slow first dial), so the prober repeats
    await waitFor(() => {
      if (got.length === 0) a.node.swimTransport.send(addrB, new Uint8Array([1]))
      return got.length > 0
    }, { timeoutMs: 20_000, intervalMs: 200 })
    await b.node.stop()
    // the first packets may go into the still-open connection; the link then fails and drops
    await waitFor(() => {
      a.node.swimTransport.send(addrB, new Uint8Array([2]))
      return a.node.stats().swimDropped > 0
    }, { timeoutMs: 20_000, intervalMs: 50 })
    a.node.swimTransport.send('not an address', new Uint8Array([3]))
    a.node.swimTransport.send('127.0.0.1:9', new Uint8Array(70_000)) // over the packet limit
    expect(a.node.stats().swimDropped).toBeGreaterThanOrEqual(3)
  }, 30_000)

  it('names the sender by its advertised address', async () => {
    const a = await startMember(async (init) => await createGossipNode({ ...init, advertise: '10.1.2.3:4001' }))
    const b = await startMember(async (init) => await createGossipNode(init))
    running.push(a, b)
    const from: string[] = []
    b.node.swimTransport.onPacket((_bytes, f) => { from.push(f) })
    await waitFor(() => {
      if (from.length === 0) a.node.swimTransport.send(b.node.multiaddrs[0] ?? '', new Uint8Array([1]))
      return from.length > 0
    }, { timeoutMs: 20_000, intervalMs: 200 })
    expect(from[0]).toBe(`/ip4/10.1.2.3/udp/4001/quic-v1/p2p/${a.node.peerId}`)
  })
})

// Introduce a and b to each other, then broadcast from a until b has received something.
async function pairAndDeliver (a: ClusterMember, b: ClusterMember): Promise<void> {
  a.node.setMembers([{ addr: b.node.multiaddrs[0] ?? '' }])
  b.node.setMembers([{ addr: a.node.multiaddrs[0] ?? '' }])
  await waitFor(async () => {
    const p = a.store.write(new Uint8Array([1]))
    a.node.broadcast(MemoryVersionStore.keyOf(p), p)
    return b.store.size > 0
  }, { intervalMs: 100 })
}

describe('lifecycle', () => {
  it('a node can be stopped and started again', async () => {
    const a = await startMember(async (init) => await createGossipNode({ ...init, sync: { auto: false } }))
    const b = await startMember(async (init) => await createGossipNode({ ...init, sync: { auto: false } }))
    running.push(a, b)
    await a.node.stop()
    await a.node.start()
    await pairAndDeliver(a, b)
    expect(() => { b.node.broadcast('k', new Uint8Array(2 * 1024 * 1024)) }).toThrow(expect.objectContaining({ name: 'PayloadTooLargeError' }))
    await b.node.stop()
    expect(() => { b.node.broadcast('k', new Uint8Array(1)) }).toThrow(expect.objectContaining({ name: 'NotStartedError' }))
  })
})

describe('metrics hooks', () => {
  it('report sends, receptions, bytes, sync rounds and RTT', async () => {
    const counts = new Map<string, number>()
    const observed = new Set<string>()
    const metrics: GossipMetrics = {
      increment (name, value = 1) { counts.set(name, (counts.get(name) ?? 0) + value) },
      observe (name) { observed.add(name) }
    }
    const factory = async (init: GossipInit) => await createGossipNode({ ...init, metrics, sync: { auto: false } })
    const a = await startMember(factory)
    const b = await startMember(factory)
    running.push(a, b)
    await pairAndDeliver(a, b)
    await b.node.syncNow()
    for (const name of ['gossip_payloads_sent', 'gossip_payloads_received', 'gossip_payloads_delivered', 'gossip_bytes_sent', 'gossip_bytes_received', 'gossip_sync_rounds']) {
      expect(counts.get(name), name).toBeGreaterThan(0)
    }
    expect(observed).toEqual(new Set(['gossip_rtt_ms', 'gossip_sync_round_ms']))
  })
})

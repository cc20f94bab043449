import { afterEach, describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import type { GossipInit } from '../src/index.ts'
import { MemoryVersionStore, connectAll, startCluster, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'

const factory = async (init: GossipInit) => await createGossipNode(init)
let running: ClusterMember[] = []

afterEach(async () => {
  await stopCluster(running)
  running = []
})

// Broadcast is probabilistic; setup phases top up with sync rounds so they never flake.
async function converge (c: ClusterMember[], size: number): Promise<void> {
  await waitFor(async () => {
    if (c.every((m) => m.store.size === size)) return true
    await Promise.all(c.map(async (m) => await m.node.syncNow()))
    return c.every((m) => m.store.size === size)
  }, { timeoutMs: 15_000, intervalMs: 50, message: `cluster did not converge on ${size} items` })
}

function publish (m: ClusterMember, i: number): string {
  const payload = m.store.write(new TextEncoder().encode(`item ${i} from ${m.node.peerId}`))
  const key = MemoryVersionStore.keyOf(payload)
  m.node.broadcast(key, payload)
  return key
}

describe('10 nodes over QUIC on 127.0.0.1', () => {
  it('every broadcast reaches every node, none twice', async () => {
    const c = running = await startCluster(10, factory, { init: { sync: { minIntervalMs: 1000, maxIntervalMs: 2000 } } })
    const keys: string[] = []
    for (let i = 0; i < 300; i++) keys.push(publish(c[i % c.length] as ClusterMember, i))
    await waitFor(() => c.every((m) => m.store.size === keys.length), { timeoutMs: 20_000, message: 'not every node has every payload' })
    const digest = c[0]?.store.digest()
    let viaBroadcast = 0
    for (const m of c) {
      expect(m.store.digest()).toBe(digest)
      expect(new Set(m.delivered).size).toBe(m.delivered.length)
      viaBroadcast += m.delivered.length
      const s = m.node.stats()
      expect(s.framesRejected).toBe(0)
      expect(s.admissionRejected).toBe(0)
    }
    // broadcast is the fast path: nearly everything (each node's own 30 excluded) arrives by it
    expect(viaBroadcast).toBeGreaterThanOrEqual(0.99 * 270 * 10)
  })

  it('sends own payloads straight to every peer of a small cluster: no relays, no duplicates', async () => {
    const run = async (directMax: number): Promise<{ duplicates: number, dropped: number }> => {
      const c = running = await startCluster(6, factory, { init: { sync: { auto: false }, broadcast: { directMax } } })
      const keys: string[] = []
      for (let i = 0; i < 60; i++) keys.push(publish(c[i % c.length] as ClusterMember, i))
      await waitFor(() => c.every((m) => m.store.size === keys.length), { timeoutMs: 20_000, message: `directMax ${directMax}: not every node has every payload` })
      await waitFor(() => c.every((m) => m.node.stats().queued === 0), { timeoutMs: 10_000 })
      const total = { duplicates: 0, dropped: 0 }
      for (const m of c) {
        total.duplicates += m.node.stats().duplicates
        total.dropped += m.node.stats().payloadsDropped
      }
      await stopCluster(c)
      running = []
      return total
    }
    const direct = await run(16)
    // (a send dropped while a link came up is re-spent on another peer, which already has it)
    expect(direct.duplicates).toBeLessThanOrEqual(direct.dropped)
    // the epidemic it replaces delivers most payloads more than once
    const epidemic = await run(0)
    expect(epidemic.duplicates).toBeGreaterThan(60)
  })

  it('a node started late converges through sync alone', async () => {
    const c = running = await startCluster(9, factory, { init: { sync: { auto: false } } })
    for (let i = 0; i < 200; i++) publish(c[i % c.length] as ClusterMember, i)
    await converge(c, 200)
    const late = await startMember(factory, { sync: { minIntervalMs: 100, maxIntervalMs: 300 } })
    running.push(late)
    // it only knows seed addresses, without peer ids
    late.node.setMembers(c.map((m) => ({ addr: (m.node.multiaddrs[0] ?? '').replace(/\/p2p\/.*$/, '') })))
    await waitFor(() => late.store.size === 200, { timeoutMs: 15_000, message: 'late node did not catch up' })
    expect(late.store.digest()).toBe(c[0]?.store.digest())
    expect(late.delivered).toEqual([])
    expect(late.node.stats().syncChunksReceived).toBeGreaterThan(0)
  })

  it('an isolated node converges through sync alone once healed', async () => {
    const c = running = await startCluster(10, factory, { init: { sync: { auto: false } } })
    const isolated = c[9] as ClusterMember
    const rest = c.slice(0, 9)
    for (let i = 0; i < 20; i++) publish(c[i % 10] as ClusterMember, i)
    await converge(c, 20)
    // partition: the isolated node and the rest forget each other
    isolated.node.setMembers([])
    connectAll(rest)
    for (let i = 20; i < 220; i++) publish(rest[i % 9] as ClusterMember, i)
    for (let i = 0; i < 10; i++) publish(isolated, 1000 + i)
    await converge(rest, 220)
    // let pending re-sends run out before healing, so nothing reaches it by broadcast
    await waitFor(() => c.every((m) => m.node.stats().queued === 0))
    expect(isolated.store.size).toBe(30)
    const deliveredBefore = isolated.delivered.length
    // heal: membership sees everyone again; no new broadcasts, only sync rounds
    connectAll(c)
    await waitFor(async () => {
      await Promise.all(c.map(async (m) => await m.node.syncNow()))
      return c.every((m) => m.store.size === 230)
    }, { timeoutMs: 20_000, message: 'partition did not heal' })
    const digest = c[0]?.store.digest()
    for (const m of c) expect(m.store.digest()).toBe(digest)
    expect(isolated.delivered.length).toBe(deliveredBefore)
  })

  it('survives a peer going away: sends to it are dropped, others still converge', async () => {
    const c = running = await startCluster(5, factory, { init: { sync: { auto: false }, dialTimeoutMs: 500 } })
    const gone = c[4] as ClusterMember
    await gone.node.stop()
    const alive = c.slice(0, 4)
    for (let i = 0; i < 50; i++) publish(alive[i % 4] as ClusterMember, i)
    await waitFor(async () => {
      await Promise.all(alive.map(async (m) => await m.node.syncNow()))
      return alive.every((m) => m.store.size === 50)
    }, { timeoutMs: 15_000 })
    // sends to the stopped peer were dropped and counted, not buffered forever
    await waitFor(() => alive.some((m) => m.node.stats().payloadsDropped > 0))
    for (const m of alive) expect(m.node.stats().links).toBeLessThanOrEqual(4)
  })
})

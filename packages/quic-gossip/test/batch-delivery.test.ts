import { setImmediate as nextTurn } from 'node:timers/promises'
import { afterEach, describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import type { GossipInit, ReceivedPayload } from '../src/index.ts'
import { MemoryVersionStore, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'

const factory = async (init: GossipInit) => await createGossipNode(init)
let running: ClusterMember[] = []
afterEach(async () => {
  await stopCluster(running)
  running = []
})

function publish (m: ClusterMember, i: number): string {
  const payload = m.store.write(new TextEncoder().encode(`item ${i}`))
  const key = MemoryVersionStore.keyOf(payload)
  m.node.broadcast(key, payload)
  return key
}

/** a → b → c in a line: c hears of a's payloads only through b's re-broadcast. */
async function line (init: GossipInit): Promise<[ClusterMember, ClusterMember, ClusterMember]> {
  const opts: GossipInit = { sync: { auto: false }, ...init }
  const [a, b, c] = [await startMember(factory, opts), await startMember(factory, opts), await startMember(factory, opts)]
  running = [a, b, c]
  const peer = (m: ClusterMember): { addr: string; peerId: string } => ({ addr: m.node.multiaddrs[0] ?? '', peerId: m.node.peerId })
  a.node.setMembers([peer(b)])
  b.node.setMembers([peer(c)])
  c.node.setMembers([])
  return [a, b, c]
}

describe('batch delivery (onPayloads) and the coalescing window', () => {
  it('hands each frame\'s new payloads up together and re-broadcasts only those the handler calls new', async () => {
    const [a, b, c] = await line({ broadcast: { flushDelayMs: 50 } })
    const calls: ReceivedPayload[][] = []
    b.node.onPayloads(items => {
      calls.push([...items])
      // odd items are "not new here": b must not pass them on
      return items.map(it => Number(new TextDecoder().decode(it.payload).split(' ')[1]) % 2 === 0)
    })
    const keys: string[] = []
    for (let i = 0; i < 40; i++) {
      keys.push(publish(a, i))
      await nextTurn()
    }
    await waitFor(() => b.delivered.length === 40, { timeoutMs: 10_000, message: 'b did not get every payload' })
    const batched = calls.flat().map(it => it.meta.key)
    expect(batched.sort()).toEqual([...keys].sort())
    // 40 payloads sent in 40 turns went out in far fewer frames
    expect(calls.length).toBeLessThan(20)
    const even = keys.filter((_, i) => i % 2 === 0)
    await waitFor(() => c.delivered.length === even.length, { timeoutMs: 10_000, message: 'c did not get the even payloads' })
    // wait until b has nothing left to send, then check c never saw an odd one
    await waitFor(() => b.node.stats().queued === 0)
    expect([...c.delivered].sort()).toEqual([...even].sort())
  })

  it('adds no delay to a payload after a quiet spell, and coalesces what follows it', async () => {
    const [a, b] = await line({ broadcast: { flushDelayMs: 1500 } })
    const frames: number[] = []
    b.node.onPayloads(items => { frames.push(items.length) })
    const t0 = performance.now()
    publish(a, 0)
    await waitFor(() => b.delivered.length === 1, { timeoutMs: 1200, message: 'the first payload waited for the window' })
    expect(performance.now() - t0).toBeLessThan(1200)
    for (let i = 1; i <= 20; i++) {
      publish(a, i)
      await nextTurn()
    }
    await waitFor(() => b.delivered.length === 21, { timeoutMs: 10_000 })
    // the 20 that followed within the window shared one frame
    expect(frames).toEqual([1, 20])
    // and the frame counters say so on both ends
    expect(a.node.stats().framesSent).toBe(2)
    expect(b.node.stats().framesReceived).toBe(2)
    expect(b.node.stats().payloadsReceived).toBe(21)
  })

  it('refuses a bad window with a clear error', async () => {
    await expect(createGossipNode({ broadcast: { flushDelayMs: -1 } })).rejects.toThrow(/flushDelayMs/)
  })
})

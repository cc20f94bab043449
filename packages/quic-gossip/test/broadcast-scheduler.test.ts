import { describe, expect, it } from 'vitest'
import { BroadcastScheduler, transmitBudget } from '../src/index.ts'
import type { PeerView } from '../src/index.ts'

function seeded (seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0
    return s / 2 ** 32
  }
}

const peers = (n: number, rtt?: (i: number) => number): PeerView[] =>
  Array.from({ length: n }, (_, i) => ({ id: `p${i}`, rttMs: rtt?.(i) }))

function scheduler (over: Partial<ConstructorParameters<typeof BroadcastScheduler>[0]> = {}): BroadcastScheduler {
  return new BroadcastScheduler({ lambda: 4, fanout: 3, resendIntervalMs: 10, maxQueue: 100, random: seeded(1), ...over })
}

describe('BroadcastScheduler', () => {
  it('budget grows with log10 of the cluster size', () => {
    expect(transmitBudget(4, 10)).toBe(5)
    expect(transmitBudget(4, 100)).toBe(9)
    expect(transmitBudget(4, 1)).toBe(2)
  })

  it('sends a fanout at once, then re-sends to fresh peers until the budget is spent', () => {
    const s = scheduler()
    const ps = peers(19) // N = 20 → budget 6
    s.enqueue('k', new Uint8Array(10), 0)
    const first = s.take(0, ps).sends
    expect(first).toHaveLength(3)
    expect(s.take(5, ps).sends).toHaveLength(0) // not due yet
    const second = s.take(10, ps).sends
    expect(second).toHaveLength(3)
    const all = [...first, ...second].map((x) => x.peer)
    expect(new Set(all).size).toBe(6)
    expect(s.size).toBe(0)
    expect(s.nextDueAt()).toBeUndefined()
    // the hint of a round names every holder known so far
    expect(new Set(second[0]?.holders)).toEqual(new Set(all))
  })

  it('sends its own items straight to every peer while the cluster is within directMax', () => {
    const s = scheduler({ directMax: 16 })
    const ps = peers(9) // budget ceil(4·log10(10)) = 4, fanout 3
    s.enqueue('own', new Uint8Array(1), 0, [], true)
    const sends = s.take(0, ps).sends
    expect(sends.map((x) => x.peer).sort()).toEqual(ps.map((p) => p.id).sort())
    // one round: nothing left to re-send, and the hint names every peer (receivers relay nothing)
    expect(s.size).toBe(0)
    expect(new Set(sends[0]?.holders)).toEqual(new Set(ps.map((p) => p.id)))
  })

  it('gossips relayed items, and own items past directMax or with it off, within the budget', () => {
    const relayed = scheduler({ directMax: 16 })
    relayed.enqueue('r', new Uint8Array(1), 0, ['p0'])
    expect(relayed.take(0, peers(9)).sends).toHaveLength(3)
    const big = scheduler({ directMax: 4 })
    big.enqueue('own', new Uint8Array(1), 0, [], true)
    expect(big.take(0, peers(9)).sends).toHaveLength(3)
    const off = scheduler()
    off.enqueue('own', new Uint8Array(1), 0, [], true)
    expect(off.take(0, peers(9)).sends).toHaveLength(3)
    // a send given back after a drop is spent like a relayed one, never as a direct round
    const s = scheduler({ directMax: 16 })
    s.retry('k', new Uint8Array(1), 'p0', 0)
    expect(s.take(0, peers(9)).sends).toHaveLength(1)
  })

  it('never sends to known holders, and stops when no fresh peer is left', () => {
    const s = scheduler()
    const ps = peers(4)
    s.enqueue('k', new Uint8Array(1), 0, ['p0', 'p1'])
    const sends = s.take(0, ps).sends
    expect(sends.map((x) => x.peer).sort()).toEqual(['p2', 'p3'])
    expect(s.size).toBe(0)
  })

  it('noteHolder removes a peer from later rounds', () => {
    const s = scheduler({ fanout: 1 })
    const ps = peers(3) // budget 3
    s.enqueue('k', new Uint8Array(1), 0)
    const [a] = s.take(0, ps).sends
    const others = ps.map((p) => p.id).filter((id) => id !== a?.peer)
    s.noteHolder('k', others[0] as string)
    const next = s.take(100, ps).sends
    expect(next.map((x) => x.peer)).toEqual([others[1]])
  })

  it('skips later rounds once enough duplicates came back', () => {
    const s = scheduler({ stopAfterDuplicates: 2 })
    const ps = peers(19)
    s.enqueue('k', new Uint8Array(1), 0)
    expect(s.take(0, ps).sends).toHaveLength(3)
    s.noteDuplicate('k')
    s.noteDuplicate('k')
    expect(s.take(100, ps).sends).toHaveLength(0)
    expect(s.size).toBe(0)
  })

  it('retry gives back exactly one send per drop, to another peer', () => {
    const s = scheduler()
    const ps = peers(19) // budget 6
    s.enqueue('k', new Uint8Array(1), 0)
    const first = s.take(0, ps).sends
    const failed = first[0]?.peer as string
    s.retry('k', new Uint8Array(1), failed, 0) // still queued: un-spend one send
    const second = s.take(10, ps).sends
    expect(second).toHaveLength(3)
    expect(second.map((x) => x.peer)).not.toContain(failed)
    expect(s.take(30, ps).sends).toHaveLength(1)
    expect(s.size).toBe(0)
    // once forgotten, a retry re-queues the item for a single send
    s.retry('k', new Uint8Array(1), failed, 50)
    expect(s.take(40, ps).sends).toHaveLength(0)
    const again = s.take(50, ps).sends
    expect(again).toHaveLength(1)
    expect(again[0]?.peer).not.toBe(failed)
    expect(s.size).toBe(0)
  })

  it('picks the nearest RTT ring first', () => {
    const s = scheduler()
    const ps = peers(12, (i) => (i < 3 ? 1 : 80))
    s.enqueue('k', new Uint8Array(1), 0)
    expect(s.take(0, ps).sends.map((x) => x.peer).sort()).toEqual(['p0', 'p1', 'p2'])
  })

  it('drops the most-sent item when the queue is full', () => {
    const s = scheduler({ maxQueue: 2, fanout: 1 })
    const ps = peers(30)
    s.enqueue('a', new Uint8Array(1), 0)
    s.take(0, ps) // 'a' has been sent once
    s.enqueue('b', new Uint8Array(1), 0)
    expect(s.enqueue('c', new Uint8Array(1), 0)).toBe(1)
    expect(s.size).toBe(2)
    const keys = new Set(s.take(1000, ps).sends.map((x) => x.key))
    expect(keys).toEqual(new Set(['b', 'c']))
  })

  it('respects the byte budget and reports being blocked', () => {
    const s = scheduler()
    const ps = peers(9)
    for (const k of ['a', 'b', 'c']) s.enqueue(k, new Uint8Array(100), 0)
    const r = s.take(0, ps, 500)
    expect(new Set(r.sends.map((x) => x.key)).size).toBe(1)
    expect(r.blocked).toBe(true)
    expect(s.take(0, ps).sends.length).toBeGreaterThan(0)
  })

  it('is deterministic for a given random source', () => {
    const run = (): string[] => {
      const s = scheduler({ random: seeded(42) })
      s.enqueue('k', new Uint8Array(1), 0)
      return [...s.take(0, peers(50)).sends, ...s.take(100, peers(50)).sends].map((x) => x.peer)
    }
    expect(run()).toEqual(run())
  })
})

import { describe, expect, it } from 'vitest'
import { announceScale, lanConfig, localConfig, resolveConfig, retransmitLimit, suspicionMinTimeout, wanConfig } from '../src/config.ts'
import { BroadcastQueue } from '../src/broadcast-queue.ts'
import { supersedes } from '../src/member-table.ts'
import { Awareness, suspicionTimeout } from '../src/suspicion.ts'
import type { MemberState } from '../src/types.ts'

describe('config', () => {
  it('presets carry memberlist timings', () => {
    expect(lanConfig()).toMatchObject({ probeInterval: 1000, probeTimeout: 500, indirectChecks: 3, suspicionMult: 4, retransmitMult: 4, gossipInterval: 200 })
    expect(wanConfig()).toMatchObject({ probeInterval: 5000, probeTimeout: 3000, suspicionMult: 6, gossipInterval: 500, gossipNodes: 4 })
    expect(localConfig()).toMatchObject({ probeTimeout: 200, indirectChecks: 1, suspicionMult: 3, retransmitMult: 2, gossipInterval: 100 })
    expect(resolveConfig('wan')).toEqual(wanConfig())
    expect(resolveConfig({ probeInterval: 200, probeTimeout: 100 })).toMatchObject({ probeInterval: 200, probeTimeout: 100, suspicionMult: 4 })
  })

  it('rejects bad values with a message naming the key', () => {
    expect(() => resolveConfig({ probeInterval: -1 })).toThrow(/probeInterval/)
    expect(() => resolveConfig({ probeTimeout: 5000 })).toThrow(/probeTimeout/)
    expect(() => resolveConfig({ clusterId: 1.5 })).toThrow(/clusterId/)
    expect(() => resolveConfig({ maxPacketSize: 100 })).toThrow(/maxPacketSize/)
    expect(() => resolveConfig('nope' as 'lan')).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    expect(() => resolveConfig({ probeInterval: Number.NaN })).toThrow(/probeInterval/)
    expect(() => resolveConfig({ gossipNodes: -1 })).toThrow(/gossipNodes/)
    expect(() => resolveConfig({ probeIntervall: 100 } as never)).toThrow(/Unknown config key "probeIntervall"/)
  })

  it('derived values match memberlist for N = 5, 100, 1000', () => {
    const lan = lanConfig()
    expect([5, 10, 100, 1000].map(n => retransmitLimit(lan, n))).toEqual([4, 8, 12, 16])
    expect([5, 100, 1000].map(n => suspicionMinTimeout(lan, n))).toEqual([4000, 8000, 12000])
    expect(announceScale(30_000, 20)).toBe(30_000)
    expect(announceScale(30_000, 100)).toBe(90_000)
  })
})

describe('Lifeguard pieces', () => {
  it('dogpile timeout matches memberlist TestMemberList_ProbeNode_Suspect_Dogpile (N=6)', () => {
    // SuspicionMult 5, MaxMult 2, interval 100 ms, K = 3
    expect([0, 1, 2, 3].map(c => suspicionTimeout(c, 3, 500, 1000))).toEqual([1000, 750, 603, 500])
    expect(suspicionTimeout(5, 3, 500, 1000)).toBe(500)
    expect(suspicionTimeout(0, 0, 500, 1000)).toBe(500)
  })

  it('awareness saturates in [0, max-1] and scales timeouts', () => {
    const a = new Awareness(8)
    a.apply(-3)
    expect(a.health()).toBe(0)
    a.apply(20)
    expect(a.health()).toBe(7)
    expect(a.scale(1000)).toBe(8000)
  })
})

describe('supersedes (merge order)', () => {
  const states: MemberState[] = ['alive', 'suspect', 'down', 'left']
  it('newer generation, then higher incarnation, then stronger state', () => {
    const base = { generation: 1, incarnation: 1 }
    for (const a of states) {
      for (const b of states) {
        expect(supersedes({ ...base, state: a }, { ...base, state: b })).toBe(states.indexOf(a) > states.indexOf(b))
        expect(supersedes({ generation: 1, incarnation: 2, state: a }, { ...base, state: b })).toBe(true)
        expect(supersedes({ generation: 1, incarnation: 0, state: a }, { ...base, state: b })).toBe(false)
        expect(supersedes({ generation: 2, incarnation: 0, state: a }, { generation: 1, incarnation: 9, state: b })).toBe(true)
      }
    }
  })
})

describe('BroadcastQueue', () => {
  it('sends fewest-sent first, retires at the limit and replaces by key', () => {
    const q = new BroadcastQueue(10)
    const retired: string[] = []
    q.onRetired = (k) => retired.push(k)
    q.enqueue('a', new Uint8Array(10).fill(1))
    q.enqueue('b', new Uint8Array(10).fill(2))
    expect(q.select(15, 2)).toEqual([new Uint8Array(10).fill(2)]) // newest first, only one fits
    expect(q.select(15, 2)).toEqual([new Uint8Array(10).fill(1)]) // now a has fewer sends
    q.enqueue('a', new Uint8Array(5).fill(3)) // replaced, count reset
    expect(q.select(100, 2).length).toBe(2)
    expect(retired).toEqual(['b'])
    expect(q.size).toBe(1)
  })

  it('is bounded: the most-sent item is dropped when full', () => {
    const q = new BroadcastQueue(3)
    q.enqueue('a', new Uint8Array(1))
    q.select(100, 99)
    q.enqueue('b', new Uint8Array(1))
    q.enqueue('c', new Uint8Array(1))
    q.enqueue('d', new Uint8Array(1))
    expect(q.size).toBe(3)
    expect(q.has('a')).toBe(false)
  })
})

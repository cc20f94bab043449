import { describe, expect, it } from 'vitest'
import type { Timer } from '../src/types.ts'
import { enc, makeCore, member, packet, sends, update, withMembers } from './helpers.ts'

function timerOf<T extends Timer['type']> (timers: Array<{ timer: Timer, afterMs: number }>, type: T): { timer: Extract<Timer, { type: T }>, afterMs: number } {
  const t = timers.find(x => x.timer.type === type)
  if (t === undefined) throw new Error(`no ${type} timer in ${JSON.stringify(timers.map(x => x.timer.type))}`)
  return t as { timer: Extract<Timer, { type: T }>, afterMs: number }
}

describe('SwimCore: membership merge', () => {
  it('learns a new member from gossip, notifies up and re-gossips it', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    rt.takeNotifications()
    core.handleData(packet('b', { type: 'gossip' }, [update('x', { meta: enc.encode('hello') })]), rt)
    expect(rt.takeNotifications()).toEqual([{ type: 'member-up', member: expect.objectContaining({ id: 'x', meta: enc.encode('hello') }) }])
    core.handleData(packet('b', { type: 'ping', seq: 1 }), rt)
    expect(sends(rt)[0]!.p.updates.map(u => u.id)).toContain('x')
  })

  it('ignores deaths and suspicions of strangers, and stale updates', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    core.handleData(packet('b', { type: 'gossip' }, [update('x', { state: 'down' }), update('y', { state: 'suspect', from: 'b' })]), rt)
    expect(core.member('x')).toBeUndefined()
    expect(core.member('y')).toBeUndefined()
    core.handleData(packet('c', { type: 'gossip' }, [update('b', { incarnation: 3 })]), rt)
    core.handleData(packet('c', { type: 'gossip' }, [update('b', { incarnation: 2, state: 'down' })]), rt)
    expect(core.member('b')).toMatchObject({ state: 'alive', incarnation: 3 })
  })

  it('a graceful leave is seen as left, and left beats down at the same incarnation', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    rt.takeNotifications()
    core.handleData(packet('b', { type: 'gossip' }, [update('b', { state: 'left' })]), rt)
    expect(core.member('b')?.state).toBe('left')
    expect(rt.takeNotifications()).toEqual([{ type: 'member-left', member: expect.objectContaining({ id: 'b' }) }])
    core.handleData(packet('c', { type: 'gossip' }, [update('b', { state: 'down' })]), rt)
    expect(core.member('b')?.state).toBe('left')
  })

  it('a renewed member (newer generation) comes back up even from down, without a duplicate', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    core.handleData(packet('c', { type: 'gossip' }, [update('b', { state: 'down', incarnation: 7 })]), rt)
    rt.takeNotifications()
    core.handleData(packet('c', { type: 'gossip' }, [update('b', { generation: 2, incarnation: 0 })]), rt)
    expect(core.member('b')).toMatchObject({ state: 'alive', generation: 2, incarnation: 0 })
    expect(rt.takeNotifications()).toEqual([{ type: 'member-up', member: expect.objectContaining({ id: 'b' }) }])
    expect(core.members().filter(m => m.id === 'b')).toHaveLength(1)
  })

  it('a new id at an address held by an older generation replaces it (no ghost)', () => {
    const { core, rt } = makeCore()
    core.applyMembers([member('old', { addr: 'host:1' })], rt)
    rt.takeNotifications()
    core.handleData(packet('c', { type: 'gossip' }, [update('new', { addr: 'host:1', generation: 2 })]), rt)
    expect(core.member('old')?.state).toBe('down')
    expect(core.member('new')?.state).toBe('alive')
    // and a stale claim from an older generation does not take the address back
    core.handleData(packet('c', { type: 'gossip' }, [update('older', { addr: 'host:1', generation: 1 })]), rt)
    expect(core.member('older')).toBeUndefined()
  })

  it('meta changes are reported as updated', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    rt.takeNotifications()
    core.handleData(packet('b', { type: 'gossip' }, [update('b', { incarnation: 1, meta: enc.encode('v2') })]), rt)
    expect(rt.takeNotifications()).toEqual([{ type: 'member-updated', member: expect.objectContaining({ id: 'b', meta: enc.encode('v2') }) }])
  })

  it('a death learned from a full-state feed is only a suspicion', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.handleData(packet('b', { type: 'feed', reply: false }, [update('a', { state: 'down' })]), rt)
    expect(core.member('a')?.state).toBe('suspect')
  })

  it('a feed that still sees alive a member we hold down triggers a revival ping carrying the death', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.handleData(packet('b', { type: 'gossip' }, [update('a', { state: 'down' })]), rt)
    rt.takeSends()
    core.handleData(packet('b', { type: 'feed', reply: false }, [update('a')]), rt)
    const ping = sends(rt).find(s => s.addr === 'addr-a')!
    expect(ping.p.message).toEqual({ type: 'ping', seq: 0 })
    expect(ping.p.updates[0]).toMatchObject({ id: 'a', state: 'down' })
  })

  it('forgets down members after forgetDownAfter', () => {
    const { core, rt, clock } = makeCore({ forgetDownAfter: 10_000 })
    withMembers(core, rt, ['a', 'b'])
    core.start(rt)
    const reap = timerOf(rt.takeTimers(), 'reap')
    core.handleData(packet('b', { type: 'gossip' }, [update('a', { state: 'down' })]), rt)
    clock.advance(10_000)
    core.handleTimer(reap.timer, rt)
    expect(core.member('a')).toBeUndefined()
    expect(core.member('b')?.state).toBe('alive')
  })
})

describe('SwimCore: leave and rejoin', () => {
  it('leave gossips left at once and reports when it is disseminated', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b', 'c'])
    core.start(rt)
    const gossip = timerOf(rt.takeTimers(), 'gossip')
    core.leave(rt)
    expect(core.self().state).toBe('left')
    const out = sends(rt)
    expect(out.length).toBeGreaterThan(0)
    for (const s of out) expect(s.p.updates).toContainEqual(expect.objectContaining({ id: 'me', state: 'left' }))
    for (let i = 0; i < 10 && !rt.notifications.some(n => n.type === 'leave-disseminated'); i++) core.handleTimer(gossip.timer, rt)
    expect(rt.notifications).toContainEqual({ type: 'leave-disseminated' })
  })

  it('rejoin renews the generation and announces again', () => {
    const { core, rt, clock } = makeCore()
    withMembers(core, rt, ['a'])
    core.start(rt)
    core.leave(rt)
    rt.takeSends()
    clock.advance(5000)
    core.rejoin(rt)
    expect(core.self()).toMatchObject({ state: 'alive', incarnation: 0 })
    expect(core.self().generation).toBeGreaterThan(1)
    const feed = sends(rt).find(s => s.p.message.type === 'feed')!
    expect(feed.p.message).toEqual({ type: 'feed', reply: true })
  })

  it('updateMeta raises the incarnation and gossips the new meta', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a'])
    core.updateMeta(enc.encode('new'), rt)
    expect(core.self().incarnation).toBe(1)
    const out = sends(rt)
    expect(out[0]!.p.updates).toContainEqual(expect.objectContaining({ id: 'me', meta: enc.encode('new'), incarnation: 1 }))
  })
})

describe('SwimCore: full-state exchange', () => {
  it('answers a join feed with its own full view', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.handleData(packet('joiner', { type: 'feed', reply: true }, [update('joiner')], { to: '' }), rt)
    expect(core.member('joiner')?.state).toBe('alive')
    const out = sends(rt).filter(s => s.p.message.type === 'feed')
    expect(out).toHaveLength(1)
    expect(out[0]!.addr).toBe('addr-joiner')
    expect(out[0]!.p.message).toEqual({ type: 'feed', reply: false })
    expect(out[0]!.p.updates.map(u => u.id).sort()).toEqual(['a', 'b', 'joiner', 'me'])
  })

  it('splits a large view across packets that each fit the limit', () => {
    const { core, rt } = makeCore({ maxPacketSize: 1200 })
    core.applyMembers(Array.from({ length: 100 }, (_, i) => member(`m${i}`, { meta: new Uint8Array(200).fill(i) })), rt)
    core.join(['seed:1'], rt)
    const raw = rt.takeSends()
    expect(raw.length).toBeGreaterThan(10)
    for (const s of raw) expect(s.bytes.length).toBeLessThanOrEqual(1200)
    const ids = new Set(raw.flatMap(s => sends({ takeSends: () => [s] } as never).flatMap(x => x.p.updates.map(u => u.id))))
    expect(ids.size).toBe(101)
  })

  it('a digest exchange sends nothing when views agree and the full state when they differ', () => {
    const a = makeCore({}, 'a')
    const b = makeCore({}, 'b')
    a.core.applyMembers([b.core.self()], a.rt)
    b.core.applyMembers([a.core.self()], b.rt)
    const d = a.core.digest()
    b.core.handleData(packet('a', { type: 'digest', hi: d.hi, lo: d.lo, count: d.count }, [], { to: 'b' }), b.rt)
    expect(b.rt.takeSends()).toHaveLength(0)
    a.core.applyMembers([member('extra')], a.rt)
    const d2 = a.core.digest()
    b.core.handleData(packet('a', { type: 'digest', hi: d2.hi, lo: d2.lo, count: d2.count }, [], { to: 'b' }), b.rt)
    const out = sends(b.rt)
    expect(out[0]!.p.message).toEqual({ type: 'feed', reply: true })
  })
})

describe('SwimCore: repair paths', () => {
  it('forwards news at once to gossipNodes members (same budget)', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b', 'c', 'd'])
    core.handleData(packet('a', { type: 'gossip' }, [update('x')]), rt)
    const out = sends(rt).filter(s => s.p.message.type === 'gossip')
    expect(out).toHaveLength(3)
    for (const s of out) expect(s.p.updates.map(u => u.id)).toContain('x')
  })

  it('pulls the full state from a sender that knows more members, at most once per two periods', () => {
    const { core, rt, clock } = makeCore()
    withMembers(core, rt, ['a'])
    const fromBigger = (): Uint8Array => packet('a', { type: 'ping', seq: 1 }, [], { sender: { id: 'a', addr: 'addr-a', generation: 1, incarnation: 0, known: 50 } })
    core.handleData(fromBigger(), rt)
    expect(sends(rt).filter(s => s.p.message.type === 'digest').map(s => s.addr)).toEqual(['addr-a'])
    core.handleData(fromBigger(), rt)
    expect(sends(rt).filter(s => s.p.message.type === 'digest')).toHaveLength(0)
    clock.advance(2000)
    core.handleData(fromBigger(), rt)
    expect(sends(rt).filter(s => s.p.message.type === 'digest')).toHaveLength(1)
  })

  it('asks who a known sender is when its packet shows a newer incarnation than our record', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a'])
    core.handleData(packet('b', { type: 'gossip' }, [update('a', { state: 'down' })]), rt)
    rt.takeSends()
    core.handleData(packet('a', { type: 'ping', seq: 4 }, [], { sender: { id: 'a', addr: 'addr-a', generation: 1, incarnation: 1, known: 2 } }), rt)
    expect(sends(rt).map(s => [s.addr, s.p.message.type])).toContainEqual(['addr-a', 'who'])
  })

  it('answers an outdated death of itself with its current record, to the sender', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a'])
    core.handleData(packet('a', { type: 'gossip' }, [update('me', { state: 'suspect', from: 'a' })]), rt)
    expect(core.self().incarnation).toBe(1)
    rt.takeSends()
    core.handleData(packet('a', { type: 'gossip' }, [update('me', { state: 'down', incarnation: 0 })]), rt)
    const out = sends(rt).filter(s => s.addr === 'addr-a')
    expect(out).toHaveLength(1)
    expect(out[0]!.p.updates[0]).toMatchObject({ id: 'me', state: 'alive', incarnation: 1 })
    expect(core.self().incarnation).toBe(1)
  })

  it('alone, it re-announces to its seeds every probe period', () => {
    const { core, rt } = makeCore()
    core.start(rt)
    core.join(['seed:1'], rt)
    rt.takeSends()
    const probe = rt.takeTimers().find(t => t.timer.type === 'probe')!
    core.handleTimer(probe.timer, rt)
    const out = sends(rt)
    expect(out.map(s => [s.addr, s.p.message.type])).toEqual([['seed:1', 'feed']])
  })

  it('announces to a down member with its death on board (partition heal)', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.start(rt)
    const timer = rt.takeTimers().find(t => t.timer.type === 'announce-down')!
    core.handleData(packet('b', { type: 'gossip' }, [update('a', { state: 'down' })]), rt)
    rt.takeSends()
    core.handleTimer(timer.timer, rt)
    const out = sends(rt).filter(s => s.addr === 'addr-a')
    expect(out).toHaveLength(1)
    expect(out[0]!.p.message.type).toBe('digest')
    expect(out[0]!.p.updates).toEqual([expect.objectContaining({ id: 'a', state: 'down' })])
  })
})

describe('view digest', () => {
  it('changes whenever any member changes, even when two changes could cancel out', () => {
    const ids = Array.from({ length: 12 }, (_, i) => `n${i}`)
    const { core: a, rt: ra } = makeCore()
    a.applyMembers(ids.map(id => member(id)), ra)
    const base = a.digest()
    const seen = new Set([`${base.hi}:${base.lo}`])
    // every pair of members moved from alive(0) to down(0) or alive(1) must give a new digest
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        for (const [si, sj] of [['down', 'down'], ['down', 'alive'], ['alive', 'down'], ['alive', 'alive']] as const) {
          const { core, rt } = makeCore()
          core.applyMembers(ids.map(id => member(id)), rt)
          core.handleData(packet('z', { type: 'gossip' }, [
            update(ids[i]!, si === 'down' ? { state: 'down' } : { incarnation: 1 }),
            update(ids[j]!, sj === 'down' ? { state: 'down' } : { incarnation: 1 })
          ]), rt)
          const d = core.digest()
          expect(`${d.hi}:${d.lo}`).not.toBe(`${base.hi}:${base.lo}`)
          seen.add(`${d.hi}:${d.lo}`)
        }
      }
    }
    expect(seen.size).toBe(1 + 66 * 4)
  })
})

describe('SwimCore: user broadcasts', () => {
  it('delivers a broadcast once and passes it on', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    const bytes = packet('a', { type: 'gossip' }, [], { broadcasts: [{ key: 'k1', payload: enc.encode('hi') }] })
    core.handleData(bytes, rt)
    core.handleData(bytes, rt)
    expect(rt.takeNotifications().filter(n => n.type === 'broadcast')).toEqual([{ type: 'broadcast', key: 'k1', payload: enc.encode('hi') }])
    core.handleData(packet('b', { type: 'ping', seq: 1 }), rt)
    expect(sends(rt)[0]!.p.broadcasts).toEqual([{ key: 'k1', payload: enc.encode('hi') }])
  })

  it('refuses a broadcast that cannot fit a packet', () => {
    const { core } = makeCore()
    expect(() => { core.addBroadcast('big', new Uint8Array(2000)) }).toThrow(expect.objectContaining({ name: 'PayloadTooLargeError' }))
    expect(core.backlog()).toBe(0)
  })
})

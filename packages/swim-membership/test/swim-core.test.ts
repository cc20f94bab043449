import { describe, expect, it } from 'vitest'
import type { Timer } from '../src/types.ts'
import { enc, makeCore, member, packet, sends, update, withMembers } from './helpers.ts'

function timerOf<T extends Timer['type']> (timers: Array<{ timer: Timer, afterMs: number }>, type: T): { timer: Extract<Timer, { type: T }>, afterMs: number } {
  const t = timers.find(x => x.timer.type === type)
  if (t === undefined) throw new Error(`no ${type} timer in ${JSON.stringify(timers.map(x => x.timer.type))}`)
  return t as { timer: Extract<Timer, { type: T }>, afterMs: number }
}

describe('SwimCore: start and replies', () => {
  it('schedules every periodic timer on start', () => {
    const { core, rt } = makeCore()
    core.start(rt)
    const types = rt.takeTimers().map(t => t.timer.type).sort()
    expect(types).toEqual(['announce', 'announce-down', 'gossip', 'probe', 'reap'])
  })

  it('acks a ping at the address inside the packet and asks an unknown sender who it is', () => {
    const { core, rt } = makeCore()
    core.start(rt)
    rt.takeTimers()
    core.handleData(packet('a', { type: 'ping', seq: 7 }), rt)
    const out = sends(rt)
    expect(out[0]?.addr).toBe('addr-a')
    expect(out[0]?.p.message).toEqual({ type: 'ack', seq: 7 })
    expect(out[0]?.p.to).toBe('a')
    // our own alive update rides on the ack
    expect(out[0]?.p.updates.map(u => `${u.id}:${u.state}`)).toContain('me:alive')
    expect(out[1]?.p.message.type).toBe('who')
  })

  it('does not ack a ping addressed to another id (previous occupant of our address)', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a'])
    core.handleData(packet('a', { type: 'ping', seq: 7 }, [], { to: 'someone-else' }), rt)
    expect(sends(rt).filter(s => s.p.message.type === 'ack')).toHaveLength(0)
  })

  it('answers who with its own record', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a'])
    core.handleData(packet('a', { type: 'who' }), rt)
    const [out] = sends(rt)
    expect(out?.p.message.type).toBe('gossip')
    expect(out?.p.updates[0]).toMatchObject({ id: 'me', addr: 'addr-me', state: 'alive' })
  })
})

describe('SwimCore: probing', () => {
  function probing (config = {}): ReturnType<typeof makeCore> & { target: string, token: number, epoch: number } {
    const ctx = makeCore(config)
    withMembers(ctx.core, ctx.rt, ['a', 'b', 'c', 'd'])
    ctx.rt.takeNotifications()
    ctx.core.start(ctx.rt)
    const probe = timerOf(ctx.rt.takeTimers(), 'probe')
    ctx.core.handleTimer(probe.timer, ctx.rt)
    const out = sends(ctx.rt)
    expect(out).toHaveLength(1)
    expect(out[0]?.p.message.type).toBe('ping')
    const timers = ctx.rt.takeTimers()
    expect(timerOf(timers, 'probe-timeout').afterMs).toBe(500)
    expect(timerOf(timers, 'probe').afterMs).toBe(1000)
    return { ...ctx, target: out[0]!.p.to, token: timerOf(timers, 'probe-timeout').timer.token, epoch: timerOf(timers, 'probe').timer.token }
  }

  it('an ack ends the probe: no suspicion, health stays 0', () => {
    const { core, rt, target, epoch } = probing()
    const seq = 1
    core.handleData(packet(target, { type: 'ack', seq }), rt)
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(core.member(target)?.state).toBe('alive')
    expect(core.localHealth()).toBe(0)
  })

  it('no ack by the probe timeout sends k ping-req to other members', () => {
    const { core, rt, target, token } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    const out = sends(rt)
    expect(out).toHaveLength(3)
    for (const s of out) {
      expect(s.p.message).toMatchObject({ type: 'ping-req', targetId: target, targetAddr: `addr-${target}` })
      expect(s.p.to).not.toBe(target)
    }
  })

  it('an unanswered probe makes the target suspect, starts a Lifeguard-max suspicion and raises health by missed nacks', () => {
    const { core, rt, target, token, epoch } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    rt.takeSends()
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(core.member(target)?.state).toBe('suspect')
    expect(rt.takeNotifications()).toContainEqual({ type: 'member-suspect', member: expect.objectContaining({ id: target, state: 'suspect' }), from: 'me' })
    const susp = timerOf(rt.takeTimers(), 'suspicion')
    // N=5: min = 4 · max(1, log10 5) · 1 s = 4 s; max = 6 · min
    expect(susp.afterMs).toBe(24_000)
    expect(core.localHealth()).toBe(3)
  })

  it('nacks show the local node is healthy: no health penalty', () => {
    const { core, rt, token, epoch } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    for (const s of sends(rt)) core.handleData(packet(s.p.to, { type: 'nack', seq: 1 }), rt)
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(core.localHealth()).toBe(0)
  })

  it('an indirect ack counts as an ack', () => {
    const { core, rt, target, token, epoch } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    const relay = sends(rt)[0]!.p.to
    core.handleData(packet(relay, { type: 'indirect-ack', seq: 1 }), rt)
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(core.member(target)?.state).toBe('alive')
  })

  it('a degraded member probes less often and waits longer (LHM scaling)', () => {
    const { core, rt, token, epoch } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    rt.takeSends()
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    const timers = rt.takeTimers()
    expect(timerOf(timers, 'probe').afterMs).toBe(4000)
    expect(timerOf(timers, 'probe-timeout').afterMs).toBe(2000)
  })

  it('without Lifeguard the suspicion uses the minimum and health is not tracked', () => {
    const { core, rt, token, epoch } = probing({ lifeguard: false })
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    rt.takeSends()
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(timerOf(rt.takeTimers(), 'suspicion').afterMs).toBe(4000)
    expect(core.localHealth()).toBe(0)
  })

  it('stale, duplicated and reordered timers are ignored', () => {
    const { core, rt, token, epoch } = probing()
    core.handleTimer({ type: 'probe-timeout', token: token + 100 }, rt)
    core.handleTimer({ type: 'probe', token: epoch + 100 }, rt)
    core.handleTimer({ type: 'relay-timeout', seq: 999 }, rt)
    core.handleTimer({ type: 'suspicion', id: 'a', token: 1 }, rt)
    expect(rt.backlog()).toBe(0)
    core.handleTimer({ type: 'probe', token: epoch }, rt) // the real one still works
    expect(rt.takeSends().length).toBeGreaterThan(0)
  })
})

describe('SwimCore: suspicion and refutation', () => {
  function suspecting (): ReturnType<typeof makeCore> & { susp: { timer: Extract<Timer, { type: 'suspicion' }>, afterMs: number } } {
    const ctx = makeCore()
    withMembers(ctx.core, ctx.rt, ['a', 'b', 'c', 'd', 'e'])
    ctx.core.handleData(packet('b', { type: 'gossip' }, [update('a', { state: 'suspect', from: 'b' })]), ctx.rt)
    const susp = timerOf(ctx.rt.takeTimers(), 'suspicion')
    ctx.rt.takeSends()
    ctx.rt.takeNotifications()
    return { ...ctx, susp }
  }

  it('the suspicion timer declares the member down and gossips it', () => {
    const { core, rt, susp, clock } = suspecting()
    clock.advance(susp.afterMs)
    core.handleTimer(susp.timer, rt)
    expect(core.member('a')?.state).toBe('down')
    expect(rt.takeNotifications()).toContainEqual({ type: 'member-down', member: expect.objectContaining({ id: 'a' }) })
    core.handleData(packet('b', { type: 'ping', seq: 1 }), rt)
    const ack = sends(rt)[0]!
    expect(ack.p.updates.some(u => u.id === 'a' && u.state === 'down')).toBe(true)
  })

  it('independent confirmations shorten the suspicion (dogpile) and the original timer goes stale', () => {
    const { core, rt, susp, clock } = suspecting()
    clock.advance(1000)
    core.handleData(packet('c', { type: 'gossip' }, [update('a', { state: 'suspect', from: 'c' })]), rt)
    const t1 = timerOf(rt.takeTimers(), 'suspicion')
    expect(t1.afterMs).toBeLessThan(susp.afterMs - 1000)
    // a repeated confirmation from the same member changes nothing
    core.handleData(packet('c', { type: 'gossip' }, [update('a', { state: 'suspect', from: 'c' })]), rt)
    expect(rt.takeTimers()).toHaveLength(0)
    core.handleTimer(susp.timer, rt)
    expect(core.member('a')?.state).toBe('suspect')
    clock.advance(t1.afterMs)
    core.handleTimer(t1.timer, rt)
    expect(core.member('a')?.state).toBe('down')
  })

  it('an alive with a higher incarnation refutes the suspicion', () => {
    const { core, rt, susp } = suspecting()
    core.handleData(packet('a', { type: 'gossip' }, [update('a', { incarnation: 1 })]), rt)
    expect(core.member('a')).toMatchObject({ state: 'alive', incarnation: 1 })
    core.handleTimer(susp.timer, rt)
    expect(core.member('a')?.state).toBe('alive')
  })

  it('a member refutes a suspicion about itself with incarnation + 1 (and Lifeguard counts it)', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    core.handleData(packet('b', { type: 'ping', seq: 3 }, [update('me', { state: 'suspect', from: 'b' })]), rt)
    expect(core.self().incarnation).toBe(1)
    expect(core.localHealth()).toBe(1)
    expect(rt.takeNotifications()).toContainEqual({ type: 'refuted', incarnation: 1 })
    const ack = sends(rt)[0]!
    expect(ack.p.updates).toContainEqual(expect.objectContaining({ id: 'me', state: 'alive', incarnation: 1 }))
  })

  it('a member declared down refutes too (it comes back with a higher incarnation)', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['b'])
    core.handleData(packet('b', { type: 'gossip' }, [update('me', { state: 'down', incarnation: 4 })]), rt)
    expect(core.self()).toMatchObject({ state: 'alive', incarnation: 5 })
  })

  it('buddy system: a reply to a suspect member carries the suspicion first', () => {
    const { core, rt } = suspecting()
    core.handleData(packet('a', { type: 'ping', seq: 9 }), rt)
    const ack = sends(rt)[0]!
    expect(ack.p.updates[0]).toMatchObject({ id: 'a', state: 'suspect' })
  })

  it('a down member that talks to us is told it is down', () => {
    const { core, rt, susp } = suspecting()
    core.handleTimer(susp.timer, rt)
    rt.takeSends()
    core.handleData(packet('a', { type: 'ping', seq: 9 }), rt)
    const ack = sends(rt)[0]!
    expect(ack.p.updates[0]).toMatchObject({ id: 'a', state: 'down' })
  })
})

describe('SwimCore: indirect probes (relay)', () => {
  it('relays a ping-req and forwards the ack as an indirect ack', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.handleData(packet('a', { type: 'ping-req', seq: 5, targetId: 'b', targetAddr: 'addr-b' }), rt)
    const ping = sends(rt)[0]!
    expect(ping.addr).toBe('addr-b')
    expect(ping.p.to).toBe('b')
    if (ping.p.message.type !== 'ping') throw new Error('expected ping')
    const relayTimer = timerOf(rt.takeTimers(), 'relay-timeout')
    expect(relayTimer.afterMs).toBe(400)
    core.handleData(packet('b', { type: 'ack', seq: ping.p.message.seq }), rt)
    const fwd = sends(rt)[0]!
    expect(fwd.addr).toBe('addr-a')
    expect(fwd.p.message).toEqual({ type: 'indirect-ack', seq: 5 })
    core.handleTimer(relayTimer.timer, rt)
    expect(rt.takeSends()).toHaveLength(0)
  })

  it('sends a nack when the target stays silent', () => {
    const { core, rt } = makeCore()
    withMembers(core, rt, ['a', 'b'])
    core.handleData(packet('a', { type: 'ping-req', seq: 5, targetId: 'b', targetAddr: 'addr-b' }), rt)
    rt.takeSends()
    core.handleTimer(timerOf(rt.takeTimers(), 'relay-timeout').timer, rt)
    const nack = sends(rt)[0]!
    expect(nack.addr).toBe('addr-a')
    expect(nack.p.message).toEqual({ type: 'nack', seq: 5 })
  })
})

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
    const out = sends(rt)
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

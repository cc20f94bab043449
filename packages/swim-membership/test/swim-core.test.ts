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

  it('a probe tick that fires late (starved event loop) blames itself, not the target', () => {
    const { core, rt, target, token, epoch, clock } = probing()
    core.handleTimer({ type: 'probe-timeout', token }, rt)
    rt.takeSends()
    clock.advance(1000 + 400) // due after 1000 ms, fired 400 ms late (> probeTimeout / 2)
    core.handleTimer({ type: 'probe', token: epoch }, rt)
    expect(core.member(target)?.state).toBe('alive')
    expect(core.localHealth()).toBe(3)
  })

  it('a late gossip tick during the probe also marks the failure as ours', () => {
    const ctx = makeCore()
    withMembers(ctx.core, ctx.rt, ['a', 'b', 'c', 'd'])
    ctx.core.start(ctx.rt)
    const timers = ctx.rt.takeTimers()
    const gossip = timerOf(timers, 'gossip')
    ctx.core.handleTimer(gossip.timer, ctx.rt) // sets the first due time
    ctx.core.handleTimer(timerOf(timers, 'probe').timer, ctx.rt)
    const target = sends(ctx.rt).find(s => s.p.message.type === 'ping')!.p.to
    const probeTimers = ctx.rt.takeTimers()
    ctx.clock.advance(600) // the next gossip tick was due after 200 ms
    ctx.core.handleTimer(gossip.timer, ctx.rt)
    ctx.clock.advance(400) // the probe tick itself is on time
    ctx.core.handleTimer(timerOf(probeTimers, 'probe').timer, ctx.rt)
    expect(ctx.core.member(target)?.state).toBe('alive')
    expect(ctx.core.localHealth()).toBe(1)
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

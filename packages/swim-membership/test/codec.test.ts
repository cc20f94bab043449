import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { decodePacket, encodePacket, MAX_COUNTER, MESSAGE_TYPES, WIRE_VERSION } from '../src/codec.ts'
import type { Message, Packet } from '../src/codec.ts'
import { makeCore, packet, update } from './helpers.ts'

const messages: Message[] = [
  { type: 'ping', seq: 1 }, { type: 'ack', seq: 2 ** 31 - 1 }, { type: 'ping-req', seq: 3, targetId: 't', targetAddr: 'h:1' },
  { type: 'indirect-ack', seq: 4 }, { type: 'nack', seq: 5 }, { type: 'feed', reply: true }, { type: 'feed', reply: false },
  { type: 'gossip' }, { type: 'digest', hi: 0xffff_ffff, lo: 0, count: 1000 }, { type: 'who' }
]

const str = fc.string({ minLength: 1, maxLength: 40 })
const counter = fc.integer({ min: 0, max: MAX_COUNTER - 1 })
const arbPacket: fc.Arbitrary<Packet> = fc.record({
  clusterId: fc.integer({ min: 0, max: 0xffff_ffff }),
  sender: fc.record({ id: str, addr: str, generation: counter, incarnation: counter, known: fc.nat() }),
  to: fc.string({ maxLength: 20 }),
  message: fc.constantFrom(...messages),
  updates: fc.array(fc.record({
    id: str, addr: str, meta: fc.uint8Array({ maxLength: 64 }), generation: counter, incarnation: counter,
    state: fc.constantFrom('alive', 'suspect', 'down', 'left')
  }).map(u => (u.state === 'suspect' ? { ...u, from: 'x' } : u) as Packet['updates'][number]), { maxLength: 5 }),
  broadcasts: fc.array(fc.record({ key: str, payload: fc.uint8Array({ maxLength: 64 }) }), { maxLength: 3 })
})

describe('codec', () => {
  it('round-trips every message type', () => {
    fc.assert(fc.property(arbPacket, (p) => {
      expect(decodePacket(encodePacket(p))).toEqual(p)
    }), { numRuns: 300 })
  })

  it('a ping with one update is compact', () => {
    const bytes = packet('node-1', { type: 'ping', seq: 12345 }, [])
    expect(bytes.length).toBeLessThan(40)
  })

  it('random bytes only ever raise typed errors', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      try {
        decodePacket(bytes)
      } catch (err) {
        expect(['MalformedPacketError', 'UnsupportedVersionError']).toContain((err as Error).name)
      }
    }), { numRuns: 2000 })
  })

  it('every truncation and every single-byte corruption of a valid packet is rejected or decodes cleanly', () => {
    const good = packet('a', { type: 'ping-req', seq: 9, targetId: 'b', targetAddr: 'addr-b' }, [update('c', { state: 'suspect', from: 'a' })])
    for (let n = 0; n < good.length; n++) {
      expect(() => decodePacket(good.subarray(0, n))).toThrow(expect.objectContaining({ name: 'MalformedPacketError' }))
    }
    fc.assert(fc.property(fc.nat(good.length - 1), fc.integer({ min: 0, max: 255 }), (i, v) => {
      const bad = good.slice()
      bad[i] = v
      try {
        decodePacket(bad)
      } catch (err) {
        expect(['MalformedPacketError', 'UnsupportedVersionError']).toContain((err as Error).name)
      }
    }), { numRuns: 1000 })
  })

  it('names what was wrong: trailing bytes, unknown type, version, bad UTF-8', () => {
    const good = packet('a', { type: 'ping', seq: 1 })
    const trailing = new Uint8Array([...good, 0])
    expect(() => decodePacket(trailing)).toThrow(/trailing bytes/)
    const unknown = good.slice()
    unknown[2] = MESSAGE_TYPES.length
    expect(() => decodePacket(unknown)).toThrow(/Unknown message type/)
    const version = good.slice()
    version[0] = WIRE_VERSION + 1
    expect(() => decodePacket(version)).toThrow(expect.objectContaining({ name: 'UnsupportedVersionError' }))
    expect(() => decodePacket(new Uint8Array([1, 0, 0, 2, 0xff, 0xfe]))).toThrow(/UTF-8/)
  })

  it('hostile packets leave the core untouched', () => {
    const { core, rt } = makeCore()
    core.applyMembers([{ id: 'a', addr: 'addr-a', meta: new Uint8Array(0), incarnation: 0, generation: 1, state: 'alive' }], rt)
    const before = JSON.stringify([core.members(), core.self(), core.digest()])
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      try { core.handleData(bytes, rt) } catch {}
    }), { numRuns: 500 })
    // other cluster
    expect(() => { core.handleData(packet('x', { type: 'gossip' }, [update('x')], { clusterId: 7 }), rt) }).toThrow(expect.objectContaining({ name: 'ClusterMismatchError' }))
    // oversized meta in the second update: the first is not applied either
    expect(() => { core.handleData(packet('a', { type: 'gossip' }, [update('y'), update('z', { meta: new Uint8Array(600) })]), rt) }).toThrow(expect.objectContaining({ name: 'MalformedPacketError' }))
    expect(JSON.stringify([core.members(), core.self(), core.digest()])).toBe(before)
    expect(rt.sends).toHaveLength(0)
  })

  it('rejects generations and incarnations at or over the ceiling (a refutation could not be encoded)', () => {
    const { core, rt } = makeCore()
    core.applyMembers([{ id: 'a', addr: 'addr-a', meta: new Uint8Array(0), incarnation: 0, generation: 1, state: 'alive' }], rt)
    const before = JSON.stringify([core.members(), core.self(), core.digest()])
    const huge = [MAX_COUNTER, Number.MAX_SAFE_INTEGER]
    for (const v of huge) {
      for (const u of [update('me', { state: 'suspect', incarnation: v, from: 'a' }), update('me', { generation: v }), update('a', { incarnation: v }), update('b', { generation: v })]) {
        expect(() => { core.handleData(packet('a', { type: 'gossip' }, [u]), rt) }).toThrow(expect.objectContaining({ name: 'MalformedPacketError' }))
      }
      const sender = { id: 'a', addr: 'addr-a', generation: v, incarnation: 0, known: 1 }
      expect(() => { core.handleData(packet('a', { type: 'gossip' }, [], { sender }), rt) }).toThrow(expect.objectContaining({ name: 'MalformedPacketError' }))
    }
    expect(JSON.stringify([core.members(), core.self(), core.digest()])).toBe(before)
    expect(rt.sends).toHaveLength(0)
    // just under the ceiling: accepted, but a value we could not exceed is not refuted
    core.handleData(packet('a', { type: 'gossip' }, [update('me', { state: 'suspect', incarnation: MAX_COUNTER - 1, from: 'a' })]), rt)
    expect(core.self().incarnation).toBe(0)
    // every packet we send afterwards still encodes and decodes
    for (const s of rt.takeSends()) expect(() => decodePacket(s.bytes)).not.toThrow()
  })

  it('a generation that is not a finite number in range is refused at construction', () => {
    for (const generation of [Number.NaN, -1, Infinity, MAX_COUNTER]) {
      expect(() => makeCore({}, 'me', generation)).toThrow(expect.objectContaining({ name: 'InvalidIdentityError' }))
    }
  })
})

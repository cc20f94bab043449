import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FrameDecoder, Tag, decodeMessage, encodeFrame, encodeMessage } from '../src/index.ts'
import type { Message } from '../src/index.ts'

const TYPED = new Set(['MalformedFrameError', 'UnknownTagError'])
const bytes = (max = 64): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max })

const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ tag: fc.constant(Tag.Hello), version: fc.nat(), clusterId: fc.nat(), nonce: bytes(16), addr: fc.string({ maxLength: 100 }) }),
  fc.record({ tag: fc.constant(Tag.Challenge), version: fc.nat(), clusterId: fc.nat(), nonce: bytes(16), mac: bytes(32), addr: fc.string({ maxLength: 100 }) }),
  fc.record({ tag: fc.constant(Tag.Proof), mac: bytes(32) }),
  fc.record({ tag: fc.constant(Tag.Reject), reason: fc.nat(), message: fc.string({ maxLength: 100 }) }),
  fc.record({ tag: fc.constant(Tag.Batch), items: fc.array(fc.tuple(fc.string({ maxLength: 50 }), bytes(), fc.uint8Array({ maxLength: 16 }).map((b) => b.subarray(0, b.length - (b.length % 4))))) }),
  fc.record({ tag: fc.constant(Tag.Swim), packets: fc.array(bytes()) }),
  fc.record({ tag: fc.constant(Tag.Summary), summary: bytes() }),
  fc.record({ tag: fc.constant(Tag.Needs), needs: bytes() }),
  fc.record({ tag: fc.constant(Tag.Chunk), chunk: bytes() }),
  fc.record({ tag: fc.constant(Tag.Done) }),
  fc.record({ tag: fc.constant(Tag.Again) })
) as fc.Arbitrary<Message>

function normalise (v: unknown): unknown {
  if (v instanceof Uint8Array) return Array.from(v)
  if (Array.isArray(v)) return v.map(normalise)
  if (v != null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normalise(x)]))
  return v
}

describe('codec', () => {
  it('round-trips every message', () => {
    fc.assert(fc.property(message, (m) => {
      expect(normalise(decodeMessage(encodeMessage(m)))).toEqual(normalise(m))
    }), { numRuns: 500 })
  })

  it('rejects random bytes with typed errors only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      try {
        decodeMessage(b)
      } catch (err) {
        expect(TYPED.has((err as Error).name), `${(err as Error).name}: ${(err as Error).message}`).toBe(true)
      }
    }), { numRuns: 3000 })
  })

  it('rejects mutated valid messages with typed errors only', () => {
    fc.assert(fc.property(message, fc.nat(), fc.integer({ min: 0, max: 255 }), (m, pos, val) => {
      const b = encodeMessage(m).slice()
      if (b.length > 0) b[pos % b.length] = val
      try {
        decodeMessage(b)
      } catch (err) {
        expect(TYPED.has((err as Error).name)).toBe(true)
      }
    }), { numRuns: 2000 })
  })

  it('names unknown tags', () => {
    expect(() => decodeMessage(new Uint8Array([0x91, 0x7f]))).toThrow(expect.objectContaining({ name: 'UnknownTagError' }))
    expect(() => decodeMessage(new Uint8Array([0xc1]))).toThrow(expect.objectContaining({ name: 'MalformedFrameError' }))
  })
})

describe('FrameDecoder', () => {
  it('reassembles frames split at any points', () => {
    fc.assert(fc.property(fc.array(bytes(300), { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (bodies, cuts) => {
      const wire = Buffer.concat(bodies.map((b) => encodeFrame(b)))
      const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b)
      const d = new FrameDecoder(1024)
      const out: Uint8Array[] = []
      let prev = 0
      for (const p of [...points, wire.length]) {
        out.push(...d.push(wire.subarray(prev, p)))
        prev = p
      }
      expect(out.map((b) => Buffer.from(b).toString('hex'))).toEqual(bodies.map((b) => Buffer.from(b).toString('hex')))
      expect(d.bufferedBytes).toBe(0)
    }), { numRuns: 300 })
  })

  it('refuses an oversized frame before buffering its body', () => {
    const d = new FrameDecoder(100)
    expect(() => d.push(new Uint8Array([0, 0, 0, 101]))).toThrow(expect.objectContaining({ name: 'FrameTooLargeError' }))
    expect(new FrameDecoder(100).push(encodeFrame(new Uint8Array(100)))).toHaveLength(1)
  })
})

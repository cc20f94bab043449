import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { Update } from '../src/codec.ts'
import { makeCore, member, packet } from './helpers.ts'

const ids = ['a', 'b', 'c']
const arbUpdate: fc.Arbitrary<Update> = fc.record({
  id: fc.constantFrom(...ids),
  generation: fc.integer({ min: 1, max: 2 }),
  incarnation: fc.integer({ min: 0, max: 3 }),
  state: fc.constantFrom('alive', 'suspect', 'down', 'left'),
  meta: fc.constant(new Uint8Array(0))
}).map(u => ({ ...u, addr: `addr-${u.id}`, ...(u.state === 'suspect' ? { from: 'z' } : {}) }) as Update)

function view (updates: Update[]): string {
  const { core, rt } = makeCore()
  core.applyMembers(ids.map(id => member(id, { meta: new Uint8Array(0) })), rt)
  for (const u of updates) core.handleData(packet('z', { type: 'gossip' }, [u]), rt)
  return JSON.stringify(core.members().map(m => [m.id, m.generation, m.incarnation, m.state]).sort())
}

describe('membership merge (property)', () => {
  it('is order-insensitive and idempotent for known members', () => {
    fc.assert(fc.property(fc.array(arbUpdate, { maxLength: 12 }), fc.infiniteStream(fc.nat()), (updates, rnd) => {
      const shuffled = [...updates]
      const it = rnd[Symbol.iterator]()
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = (it.next().value as number) % (i + 1)
        ;[shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!]
      }
      const a = view(updates)
      expect(view(shuffled)).toBe(a)
      expect(view([...updates, ...updates])).toBe(a)
    }), { numRuns: 300 })
  })
})

import fc from 'fast-check'
import { pack, unpack } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { MemoryVersionStore, RangeSet } from '../src/testing/index.ts'

const naive = (ranges: Array<[number, number]>): Set<number> => {
  const s = new Set<number>()
  for (const [a, b] of ranges) for (let i = a; i <= b; i++) s.add(i)
  return s
}
const rangeArb = fc.array(fc.tuple(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 0, max: 20 })).map(([a, l]) => [a, a + l] as [number, number]), { maxLength: 12 })
const members = (r: RangeSet): number[] => r.ranges().flatMap(([a, b]) => Array.from({ length: b - a + 1 }, (_, i) => a + i))

describe('RangeSet', () => {
  it('matches a naive set for add, subtract and intersect', () => {
    fc.assert(fc.property(rangeArb, rangeArb, (x, y) => {
      const a = new RangeSet(x)
      const b = new RangeSet(y)
      const na = naive(x)
      const nb = naive(y)
      expect(members(a)).toEqual([...na].sort((p, q) => p - q))
      expect(a.count()).toBe(na.size)
      expect(members(a.subtract(b))).toEqual([...na].filter((v) => !nb.has(v)).sort((p, q) => p - q))
      expect(members(a.intersect(b))).toEqual([...na].filter((v) => nb.has(v)).sort((p, q) => p - q))
      for (let v = 0; v < 230; v += 7) expect(a.has(v)).toBe(na.has(v))
      // canonical: sorted, disjoint, non-adjacent
      const r = a.ranges()
      for (let i = 1; i < r.length; i++) expect((r[i] as [number, number])[0]).toBeGreaterThan((r[i - 1] as [number, number])[1] + 1)
    }), { numRuns: 300 })
  })
})

describe('MemoryVersionStore', () => {
  it('syncs by summary → needs → serve → apply, splitting needs disjointly across peers', () => {
    const a = new MemoryVersionStore({ maxChunkBytes: 200, blockSize: 8 })
    const b = new MemoryVersionStore({ maxChunkBytes: 200, blockSize: 8 })
    const late = new MemoryVersionStore()
    for (let i = 0; i < 50; i++) b.applyBroadcast(a.write(new Uint8Array([i])))
    for (let i = 0; i < 30; i++) a.applyBroadcast(b.write(new Uint8Array([i, i])))
    const plan = late.needs([{ peer: 'a', summary: a.summary() }, { peer: 'b', summary: b.summary() }])
    expect(plan.map((p) => p.needs.byteLength > 0)).toEqual([true, true])
    const chunks = plan.flatMap((p) => [...(p.peer === 'a' ? a : b).serve(p.needs)])
    expect(chunks.length).toBeGreaterThan(2) // bounded chunks
    for (const c of chunks) late.apply(c)
    expect(late.size).toBe(80)
    expect(late.digest()).toBe(a.digest())
    // nothing left to ask for, and no item was requested twice
    expect(late.needs([{ peer: 'a', summary: a.summary() }]).every((p) => p.needs.byteLength === 0)).toBe(true)
  })

  it('converges whatever the delivery order or duplication', () => {
    fc.assert(fc.property(fc.array(fc.nat(99), { minLength: 1, maxLength: 200 }), (order) => {
      const src = new MemoryVersionStore()
      const payloads = Array.from({ length: 100 }, (_, i) => src.write(new Uint8Array([i])))
      const dst = new MemoryVersionStore()
      for (const i of order) dst.applyBroadcast(payloads[i] as Uint8Array)
      const rest = dst.needs([{ peer: 's', summary: src.summary() }])[0]
      if (rest != null && rest.needs.byteLength > 0) for (const c of src.serve(rest.needs)) dst.apply(c)
      expect(dst.digest()).toBe(src.digest())
    }), { numRuns: 50 })
  })

  it('rejects bad bytes with a typed error and changes nothing', () => {
    const s = new MemoryVersionStore()
    s.write(new Uint8Array([1]))
    const before = s.digest()
    for (const bad of [new Uint8Array([0xc1]), new Uint8Array([0x91, 0x93, 0xa1, 0x61, 0x00, 0xc4, 0x00]), new Uint8Array([0x92, 0x93, 0xa1, 0x61, 0x01, 0xc4, 0x00, 0x01])]) {
      expect(() => { s.apply(bad) }).toThrow(expect.objectContaining({ name: 'MalformedFrameError' }))
      expect(() => s.needs([{ peer: 'x', summary: bad }])).toThrow(expect.objectContaining({ name: 'MalformedFrameError' }))
    }
    expect(s.digest()).toBe(before)
  })

  it('a summary claiming 2^52 items costs a bounded amount of work', () => {
    const s = new MemoryVersionStore({ maxNeedsPerRound: 10_000 })
    const summary = pack([['far', [[1, 2 ** 52]]]])
    const started = performance.now()
    const [plan] = s.needs([{ peer: 'x', summary }, { peer: 'y', summary }])
    expect(performance.now() - started).toBeLessThan(2000)
    const asked = unpack(plan?.needs ?? new Uint8Array(0)) as Array<[string, Array<[number, number]>]>
    const total = asked.flatMap(([, r]) => r).reduce((n, [a, b]) => n + b - a + 1, 0)
    expect(total).toBeGreaterThan(0)
    expect(total).toBeLessThanOrEqual(10_000)
  })

  it('a summary of 50k disjoint ranges is planned in near-linear time', () => {
    const s = new MemoryVersionStore()
    const ranges = Array.from({ length: 50_000 }, (_, i) => [2 * i + 1, 2 * i + 1])
    const started = performance.now()
    s.needs([{ peer: 'x', summary: pack([['o', ranges]]) }, { peer: 'y', summary: pack([['o', ranges]]) }])
    // the quadratic version took minutes; this allows a slow, loaded machine
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('needs of 100k ranges in reverse order are served in near-linear time', () => {
    const s = new MemoryVersionStore()
    for (let i = 0; i < 10; i++) s.write(new Uint8Array([i]))
    const ranges = Array.from({ length: 100_000 }, (_, i) => [200_000 - 2 * i, 200_000 - 2 * i])
    const started = performance.now()
    expect([...s.serve(pack([[s.origin, [...ranges, [1, 10]]]]))]).toHaveLength(1)
    expect(performance.now() - started).toBeLessThan(10_000)
  })

  it('intersect with a large set starts at the first overlapping range', () => {
    const big = new RangeSet(Array.from({ length: 1000 }, (_, i) => [10 * i, 10 * i + 4] as [number, number]))
    expect(new RangeSet([[23, 41]]).intersect(big).ranges()).toEqual([[23, 24], [30, 34], [40, 41]])
    expect(new RangeSet([[100_000, 100_005]]).intersect(big).ranges()).toEqual([])
    expect(new RangeSet().intersect(big).ranges()).toEqual([])
  })
})


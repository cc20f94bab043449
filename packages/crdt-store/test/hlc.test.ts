import { describe, expect, it } from 'vitest'
import { hlc, msToNtp64, ntp64ToMs } from '../src/index.ts'
import { addRange, removeRange, intersect, removeRangesFrom, countRanges } from '../src/ranges.ts'

describe('hlc', () => {
  it('is monotonic even when the physical clock stalls or goes back', () => {
    let now = 1_700_000_000_000
    const c = hlc({ now: () => now })
    const a = c.now()
    const b = c.now()
    now -= 5000
    const d = c.now()
    expect(b).toBeGreaterThan(a)
    expect(d).toBeGreaterThan(b)
    expect(a >> 32n).toBe(1_700_000_000n)
  })
  it('moves past remote timestamps within the allowed drift, ignores ones far ahead', () => {
    const c = hlc({ now: () => 5_000_000 })
    const near = msToNtp64(5_000_200)
    expect(c.update(near)).toBe(true)
    expect(c.now()).toBeGreaterThan(near)
    expect(Math.round(ntp64ToMs(near))).toBe(5_000_200)
    const far = msToNtp64(5_000_000 + 2 * 3_600_000)
    expect(c.update(far)).toBe(false)
    expect(c.now()).toBeLessThan(far)
  })
})

describe('ranges', () => {
  it('adds, removes, intersects', () => {
    let r = addRange([], 1, 3)
    r = addRange(r, 5, 6)
    r = addRange(r, 4, 4)
    expect(r).toEqual([[1, 6]])
    r = removeRange(r, 2, 3)
    expect(r).toEqual([[1, 1], [4, 6]])
    expect(intersect(r, [[3, 5]])).toEqual([[4, 5]])
    expect(removeRangesFrom([[1, 10]], [[2, 3], [8, 20]])).toEqual([[1, 1], [4, 7]])
    expect(countRanges([[1, 1], [4, 7]])).toBe(5)
  })
})

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
  it('moves past remote timestamps', () => {
    const c = hlc({ now: () => 1000 })
    const remote = msToNtp64(5_000_000)
    c.update(remote)
    expect(c.now()).toBeGreaterThan(remote)
    expect(Math.round(ntp64ToMs(remote))).toBe(5_000_000)
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

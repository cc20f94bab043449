import { describe, expect, it } from 'vitest'
import { compareValues } from '../src/index.ts'

describe('compareValues (cr-sqlite value order)', () => {
  it('orders storage classes INTEGER > REAL > TEXT > BLOB > NULL', () => {
    const order = [null, new Uint8Array([9]), 'z', 1.5, 1n]
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        expect(Math.sign(compareValues(order[i]!, order[j]!))).toBe(Math.sign(i - j))
      }
    }
  })
  it('compares INTEGER 1 above REAL 1.0', () => {
    expect(compareValues(1n, 1)).toBeGreaterThan(0)
  })
  it('compares text by UTF-8 bytes, not UTF-16 units', () => {
    // U+FF5E (EF BD 9E) sorts below U+1F600 (F0 9F 98 80) in UTF-8, above it in UTF-16
    expect(compareValues('\uff5e', '\u{1f600}')).toBeLessThan(0)
    expect(compareValues('ab', 'a')).toBeGreaterThan(0)
    expect(compareValues('a', 'a')).toBe(0)
  })
  it('compares blobs byte-wise with shorter prefix smaller', () => {
    expect(compareValues(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBeLessThan(0)
    expect(compareValues(new Uint8Array([2]), new Uint8Array([1, 9]))).toBeGreaterThan(0)
  })
  it('treats -0.0 and 0.0 as equal, NULL equal to NULL', () => {
    expect(compareValues(-0, 0)).toBe(0)
    expect(compareValues(null, null)).toBe(0)
  })
})

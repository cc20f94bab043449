import { describe, expect, it } from 'vitest'
import { hex } from '../src/hex.ts'

describe('hex', () => {
  it('matches Buffer hex for short ids and long blobs', () => {
    for (const n of [0, 1, 16, 64, 65, 1000]) {
      const b = new Uint8Array(n).map((_, i) => (i * 37 + n) & 0xff)
      expect(hex(b)).toBe(Buffer.from(b).toString('hex'))
    }
  })
  it('reads only the view, not the whole underlying buffer', () => {
    const whole = new Uint8Array([0xde, 0xad, 0xbe, 0xef, 0x01])
    expect(hex(whole.subarray(1, 3))).toBe('adbe')
  })
})

import { describe, expect, it } from 'vitest'
import { packPk, unpackPk } from '../src/index.ts'
import { packValues, unpackValues } from '../src/pack-pk.ts'

const h = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase()

describe('packPk (cr-sqlite packed columns)', () => {
  const cases: [unknown, string][] = [
    [0, '0101'], [1, '010901'], [127, '01097F'], [128, '010980'], [255, '0109FF'], [256, '01110100'],
    [2147483647, '01217FFFFFFF'], [2147483648, '012180000000'], [4294967296, '01290100000000'],
    [281474976710655, '0131FFFFFFFFFFFF'], [281474976710656, '013901000000000000'], [9007199254740991, '01391FFFFFFFFFFFFF'],
    [9007199254740993n, '013920000000000001'], [9223372036854775807n, '01417FFFFFFFFFFFFFFF'],
    [-1, '0141FFFFFFFFFFFFFFFF'], [-128, '0141FFFFFFFFFFFFFF80'], [-9223372036854775808n, '01418000000000000000'],
    [1.5, '01023FF8000000000000'], ['a', '010B0161'], ['', '0103'], ['héllo', '010B0668C3A96C6C6F'],
    [new Uint8Array([]), '0104'], [new Uint8Array([0, 255]), '010C0200FF'], [null, '0105']
  ]
  for (const [v, hexs] of cases) {
    it(`packs ${String(v)} as ${hexs}`, () => {
      expect(h(packPk([v as never]))).toBe(hexs)
      const back = unpackPk(packPk([v as never]))[0]
      if (v instanceof Uint8Array) expect(Buffer.from(back as Uint8Array).equals(Buffer.from(v))).toBe(true)
      else expect(back).toEqual(typeof v === 'bigint' && v <= 9007199254740991n && v >= -9007199254740991n ? Number(v) : v)
    })
  }
  it('packs composite keys and 300-byte text', () => {
    expect(h(packPk([12, 'str', new Uint8Array([1, 2, 3])]))).toBe('03090C0B037374720C03010203')
    expect(h(packPk(['x', 4]))).toBe('020B017809' + '04')
    expect(h(packPk(['a'.repeat(300)])).slice(0, 8)).toBe('0113012C')
  })
  it('keeps REAL and INTEGER apart in exact mode', () => {
    expect(h(packValues([1], true))).toBe('01023FF0000000000000')
    expect(h(packValues([1n], true))).toBe('010901')
    expect(unpackValues(packValues([1n], true), true)).toEqual([1n])
    expect(h(packValues([0], true))).toBe('01020000000000000000')
  })
  it('round-trips exact integers on both sides of the 48- and 53-bit boundaries', () => {
    for (const v of [0n, 255n, 2n ** 48n - 1n, 2n ** 48n, 2n ** 53n - 1n, 2n ** 53n, 2n ** 63n - 1n, -1n, -(2n ** 63n)]) {
      expect(unpackValues(packValues([v], true), true)).toEqual([v])
      expect(h(packValues([v], true))).toBe(h(packPk([v])))
    }
  })
  it('reads 1..7-byte integers as unsigned', () => {
    expect(unpackPk(Uint8Array.from([1, 0x09, 0x80]))).toEqual([128])
  })
  it('rejects malformed bytes with MalformedPkError', () => {
    for (const bad of [[], [1], [1, 0x09], [1, 0x07], [1, 0x0b, 5, 0x61], [2, 0x05], [1, 0x05, 0x00]]) {
      expect(() => unpackPk(Uint8Array.from(bad))).toThrow(expect.objectContaining({ name: 'MalformedPkError' }))
    }
  })
})

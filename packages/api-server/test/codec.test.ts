import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { packPk, unpackPk } from '../src/pk.ts'
import { parseJson, parseStatement, parseStatements, encodeValue, stringifyJson } from '../src/statement.ts'

describe('packed primary keys', () => {
  it('encodes as cr-sqlite does for simple values', () => {
    expect(Array.from(packPk([1]))).toEqual([1, (1 << 3) | 1, 1])
    expect(Array.from(packPk(['ab']))).toEqual([1, (1 << 3) | 3, 2, 97, 98])
    expect(Array.from(packPk([null, 256]))).toEqual([2, 5, (2 << 3) | 1, 1, 0])
  })

  it('round-trips any key (property)', () => {
    const v = fc.oneof(fc.constant(null), fc.maxSafeInteger(), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).filter(b => b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)),
      fc.double({ noNaN: true }).filter(d => !Number.isInteger(d)), fc.string(), fc.uint8Array())
    fc.assert(fc.property(fc.array(v, { maxLength: 6 }), vals => {
      expect(unpackPk(packPk(vals))).toEqual(vals)
    }), { numRuns: 500 })
  })

  it('rejects malformed bytes with InvalidRequestError only', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), bytes => {
      try { unpackPk(bytes) } catch (err) { expect((err as Error).name).toBe('InvalidRequestError') }
    }), { numRuns: 1000 })
  })
})

describe('statements and values', () => {
  it('parses every statement form', () => {
    expect(parseStatement('SELECT 1')).toEqual({ sql: 'SELECT 1' })
    expect(parseStatement(['SELECT ?', [1, true, null, 'x', [1, 2], { a: 1 }, [1, 'x']]])).toEqual({
      sql: 'SELECT ?', params: [1, 1, null, 'x', new Uint8Array([1, 2]), '{"a":1}', '[1,"x"]']
    })
    expect(parseStatement(['SELECT :a', { ':a': false }])).toEqual({ sql: 'SELECT :a', params: { ':a': 0 } })
    expect(parseStatement({ query: 'SELECT 1' })).toEqual({ sql: 'SELECT 1' })
    expect(parseStatement({ query: 'SELECT ?', params: [2], named_params: {} })).toEqual({ sql: 'SELECT ?', params: [2] })
    expect(parseStatement({ query: 'SELECT :x', named_params: { ':x': 'y' } })).toEqual({ sql: 'SELECT :x', params: { ':x': 'y' } })
    // As Corrosion's untagged serde form: unknown fields are ignored and `params` wins.
    expect(parseStatement({ query: 'SELECT ?', params: [1], named_params: { a: 1 }, other: 2 })).toEqual({ sql: 'SELECT ?', params: [1] })
  })

  it('rejects malformed statements with a message naming the problem', () => {
    for (const bad of [1, null, [], [1], ['SELECT 1', 1], ['x', [], 3], { query: 1 }, { sql: 'x' }, { query: 'x', params: {} }, '  ']) {
      expect(() => parseStatement(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ name: 'InvalidRequestError' }))
    }
    expect(() => parseStatements({})).toThrow(/array of statements/)
    expect(() => parseStatements(['SELECT 1', 5])).toThrow(/statement 1/)
  })

  it('keeps big integers exact both ways', () => {
    const v = parseJson('[9007199254740993, -9223372036854775808, 1.5, 3]') as unknown[]
    expect(v).toEqual([9007199254740993n, -9223372036854775808n, 1.5, 3])
    expect(stringifyJson(v.map(x => encodeValue(x as never)))).toBe('[9007199254740993,-9223372036854775808,1.5,3]')
    expect(() => parseJson('{')).toThrow(expect.objectContaining({ name: 'InvalidRequestError' }))
  })

  it('encodes blobs as byte arrays and non-finite numbers as null', () => {
    expect(stringifyJson([encodeValue(new Uint8Array([0, 255])), encodeValue(Number.NaN), encodeValue(null)])).toBe('[[0,255],null,null]')
  })
})

import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { computedName } from '../../src/pg/result-set.ts'
import { OID, decodeParam, encodeBinary, encodeText, oidForDeclaredType, oidForValue, typeDisplayName } from '../../src/pg/types.ts'

describe('type mapping', () => {
  it.each([
    ['INTEGER', OID.int8], ['BIGINT', OID.int8], ['int', OID.int8], ['TEXT', OID.text], ['VARCHAR(20)', OID.varchar],
    ['BLOB', OID.bytea], ['REAL', OID.float8], ['DOUBLE PRECISION', OID.float8], ['BOOLEAN', OID.bool], ['NUMERIC(10,2)', OID.numeric],
    ['JSON', OID.json], ['JSONB', OID.jsonb], ['DATETIME', OID.timestamp], ['DATE', OID.date], ['', OID.text], [null, OID.text],
    ['CLOB', OID.text], ['CHAR(3)', OID.bpchar], ['whatever', OID.numeric]
  ])('%s → %i', (decl, oid) => {
    expect(oidForDeclaredType(decl)).toBe(oid)
  })

  it('types computed values by their runtime type', () => {
    expect(oidForValue(1)).toBe(OID.int8)
    expect(oidForValue(1.5)).toBe(OID.float8)
    expect(oidForValue(2n ** 60n)).toBe(OID.int8)
    expect(oidForValue(new Uint8Array([1]))).toBe(OID.bytea)
    expect(oidForValue('x')).toBe(OID.text)
    expect(oidForValue(null)).toBe(OID.text)
  })

  it('names types like format_type', () => {
    expect(typeDisplayName(OID.int8)).toBe('bigint')
    expect(typeDisplayName(OID.varchar)).toBe('character varying')
    expect(typeDisplayName(OID.textArray)).toBe('text[]')
  })
})

describe('value encoding', () => {
  it('encodes text format', () => {
    expect(encodeText(null, OID.text)).toBeNull()
    expect(encodeText(1, OID.bool)).toBe('t')
    expect(encodeText(0, OID.bool)).toBe('f')
    expect(encodeText(new Uint8Array([0xde, 0xad]), OID.bytea)).toBe('\\xdead')
    expect(encodeText(3, OID.float8)).toBe('3')
    expect(encodeText(Infinity, OID.float8)).toBe('Infinity')
    expect(encodeText(2n ** 63n - 1n, OID.int8)).toBe('9223372036854775807')
  })

  it('round-trips parameters through binary format', () => {
    fc.assert(fc.property(fc.oneof(
      fc.tuple(fc.constant(OID.int8), fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })),
      fc.tuple(fc.constant(OID.int4), fc.integer()),
      fc.tuple(fc.constant(OID.float8), fc.double({ noNaN: true })),
      fc.tuple(fc.constant(OID.text), fc.string()),
      fc.tuple(fc.constant(OID.bytea), fc.uint8Array())
    ), ([oid, v]) => {
      const value = typeof v === 'bigint' && v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
      const bytes = encodeBinary(value, oid)
      const back = decodeParam(Buffer.from(bytes as Uint8Array), 1, oid, 0)
      if (value instanceof Uint8Array) expect(Buffer.from(back as Uint8Array).equals(Buffer.from(value))).toBe(true)
      else expect(back).toEqual(value)
    }), { numRuns: 500 })
  })

  it('decodes text parameters by declared type', () => {
    expect(decodeParam(Buffer.from('42'), 0, OID.int8, 0)).toBe(42)
    expect(decodeParam(Buffer.from('9223372036854775807'), 0, OID.int8, 0)).toBe(2n ** 63n - 1n)
    expect(decodeParam(Buffer.from('true'), 0, OID.bool, 0)).toBe(1)
    expect(decodeParam(Buffer.from('1.5'), 0, OID.float8, 0)).toBe(1.5)
    expect(decodeParam(Buffer.from('\\x0102'), 0, OID.bytea, 0)).toEqual(Buffer.from([1, 2]))
    expect(decodeParam(Buffer.from('007'), 0, 0, 0)).toBe('007')
    expect(decodeParam(null, 0, OID.int8, 0)).toBeNull()
  })

  it('rejects malformed parameters with PgParameterError naming the parameter', () => {
    expect(() => decodeParam(Buffer.from('abc'), 0, OID.int4, 2)).toThrow(/parameter \$3/)
    expect(() => decodeParam(Buffer.from('maybe'), 0, OID.bool, 0)).toThrow(expect.objectContaining({ name: 'PgParameterError' }))
    expect(() => decodeParam(Buffer.from('\\xZZ'), 0, OID.bytea, 0)).toThrow(expect.objectContaining({ name: 'PgParameterError' }))
    expect(() => decodeParam(Buffer.from([1, 2, 3]), 1, OID.int8, 0)).toThrow(expect.objectContaining({ name: 'PgParameterError' }))
  })
})

describe('computed column names', () => {
  it('names unaliased expressions as PostgreSQL does', () => {
    expect(computedName('count(*)')).toBe('count')
    expect(computedName('pg_catalog.version()')).toBe('version')
    expect(computedName('1')).toBe('?column?')
    expect(computedName("'a'")).toBe('?column?')
    expect(computedName("x'ab'")).toBe('?column?')
    expect(computedName('NULL')).toBe('?column?')
    expect(computedName('1 + 1')).toBe('?column?')
    expect(computedName("'a' || b")).toBe('?column?')
    expect(computedName('total')).toBe('total')
    expect(computedName('Total count')).toBe('Total count')
  })
})

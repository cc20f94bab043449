import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { diffRows, cellsKey, sameCells } from '../src/subs/row-diff.ts'
import type { SubRow } from '../src/subs/row-diff.ts'
import type { SqlValue } from '../src/ports.ts'

function apply (rows: SubRow[], changes: ReturnType<typeof diffRows>['changes']): Map<number, SqlValue[]> {
  const m = new Map(rows.map(r => [r.rowid, r.cells]))
  for (const c of changes) {
    if (c.type === 'insert') { expect(m.has(c.rowid)).toBe(false); m.set(c.rowid, c.cells) }
    else if (c.type === 'update') { expect(m.has(c.rowid)).toBe(true); m.set(c.rowid, c.cells) }
    else { expect(m.has(c.rowid)).toBe(true); m.delete(c.rowid) }
  }
  return m
}

describe('diffRows', () => {
  it('keys rows by the given columns and reports updates on the same row id', () => {
    const old: SubRow[] = [{ rowid: 1, cells: [1, 'a'] }, { rowid: 2, cells: [2, 'b'] }]
    const d = diffRows(old, [[2, 'B'], [3, 'c']], [{ columns: [0], identity: true }], 3)
    expect(d.changes).toEqual([
      { type: 'update', rowid: 2, cells: [2, 'B'] },
      { type: 'insert', rowid: 3, cells: [3, 'c'] },
      { type: 'delete', rowid: 1, cells: [1, 'a'] }
    ])
    expect(d.rows.map(r => r.rowid)).toEqual([2, 3])
    expect(d.nextRowid).toBe(4)
  })

  it('falls back to whole-row identity when a key is not unique', () => {
    const old: SubRow[] = [{ rowid: 1, cells: ['x', 1] }, { rowid: 2, cells: ['x', 2] }]
    const d = diffRows(old, [['x', 1], ['x', 2], ['x', 2]], [{ columns: [0], identity: true }], 3)
    expect(d.changes).toEqual([{ type: 'insert', rowid: 3, cells: ['x', 2] }])
  })

  it('reports one replaced row as an update', () => {
    const d = diffRows([{ rowid: 7, cells: [5] }], [[6]], [], 8)
    expect(d.changes).toEqual([{ type: 'update', rowid: 7, cells: [6] }])
    expect(d.nextRowid).toBe(8)
  })

  it('distinguishes value types in identities', () => {
    expect(cellsKey([1])).not.toBe(cellsKey(['1']))
    expect(cellsKey([null])).not.toBe(cellsKey(['']))
    expect(cellsKey([new Uint8Array([1])])).not.toBe(cellsKey(['\u0001']))
    expect(cellsKey(['a|b', 'c'])).not.toBe(cellsKey(['a', 'b|c']))
  })

  it('always yields changes that turn the old rows into the new rows (property)', () => {
    const cell = fc.oneof(fc.constant(null), fc.integer({ min: 0, max: 3 }), fc.constantFrom('a', 'b'))
    const row = fc.array(cell, { minLength: 2, maxLength: 2 })
    fc.assert(fc.property(fc.array(row, { maxLength: 8 }), fc.array(row, { maxLength: 8 }), fc.constantFrom([], [{ columns: [0], identity: true }], [{ columns: [1], identity: false }], [{ columns: [0], identity: false }, { columns: [0, 1], identity: true }]), (a, b, keys) => {
      const old: SubRow[] = a.map((cells, i) => ({ rowid: i + 1, cells }))
      const d = diffRows(old, b, keys, a.length + 1)
      const m = apply(old, d.changes)
      expect([...m.values()].map(c => cellsKey(c)).sort()).toEqual(b.map(c => cellsKey(c)).sort())
      expect(new Map(d.rows.map(r => [r.rowid, r.cells]))).toEqual(m)
    }), { numRuns: 500 })
  })
})

describe('sameCells', () => {
  it('agrees with cellsKey identity (property)', () => {
    const value: fc.Arbitrary<SqlValue> = fc.oneof(
      fc.constant(null),
      fc.integer({ min: -3, max: 3 }),
      fc.integer({ min: -3, max: 3 }).map(n => BigInt(n)),
      fc.constantFrom(0.5, -0, 2 ** 53, 1e21),
      fc.constant(2n ** 53n),
      fc.constantFrom('', '1', 'a', 'a|b'),
      fc.uint8Array({ maxLength: 3 })
    )
    const row = fc.array(value, { maxLength: 4 })
    fc.assert(fc.property(row, row, (a, b) => {
      expect(sameCells(a, b)).toBe(cellsKey(a) === cellsKey(b))
      expect(sameCells(a, a)).toBe(true)
    }), { numRuns: 2000 })
    expect(sameCells([1, 'x'], [1n, 'x'])).toBe(true)
    expect(sameCells([1], ['1'])).toBe(false)
    expect(sameCells([new Uint8Array([1, 2])], [new Uint8Array([1, 2])])).toBe(true)
    expect(sameCells([null], [])).toBe(false)
  })
})

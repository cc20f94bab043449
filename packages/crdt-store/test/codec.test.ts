import { Packr } from 'msgpackr'
import { describe, expect, it } from 'vitest'
import { decodeChangeset, decodeNeeds, decodeSummary, encodeChangeset, packPk } from '../src/index.ts'
import type { Changeset } from '../src/index.ts'

const actor = new Uint8Array(16).fill(7)
const sample: Changeset = {
  actor, version: 3, seqs: [2, 5], lastSeq: 9, ts: 0xfedcba9876543210n,
  changes: [
    { table: 't', pk: packPk([1]), cid: 'a', val: 5n, colVersion: 2, dbVersion: 3, siteId: actor, cl: 1, seq: 2 },
    { table: 't', pk: packPk([1]), cid: 'b', val: 5, colVersion: 1, dbVersion: 3, siteId: actor, cl: 1, seq: 3 },
    { table: 'u', pk: packPk(['k', 2]), cid: 'c', val: 'héllo', colVersion: 1, dbVersion: 3, siteId: actor, cl: 3, seq: 4 },
    { table: 'u', pk: packPk(['k', 2]), cid: 'd', val: new Uint8Array([0, 1]), colVersion: 1, dbVersion: 3, siteId: actor, cl: 3, seq: 5 },
    { table: 'u', pk: packPk(['k', 3]), cid: '-1', val: null, colVersion: 2, dbVersion: 3, siteId: actor, cl: 2, seq: 5 }
  ]
}

describe('changeset codec', () => {
  it('round-trips, keeping INTEGER (bigint) and REAL (number) apart', () => {
    const back = decodeChangeset(encodeChangeset(sample))
    expect(back).toEqual(sample)
    expect(typeof back.changes[0]!.val).toBe('bigint')
    expect(typeof back.changes[1]!.val).toBe('number')
  })
  it('rejects random and damaged bytes with MalformedChangesetError only', () => {
    const good = encodeChangeset(sample)
    let seed = 42
    const rnd = (): number => { seed = (seed * 1103515245 + 12345) & 0x7fffffff; return seed }
    for (let i = 0; i < 2000; i++) {
      const bytes = i % 2 === 0
        ? Uint8Array.from({ length: rnd() % 64 }, () => rnd() & 0xff)
        : (() => { const b = Uint8Array.from(good); b[rnd() % b.length] = rnd() & 0xff; return b.subarray(0, rnd() % (b.length + 1)) })()
      for (const decode of [decodeChangeset, decodeSummary, decodeNeeds]) {
        try { decode(bytes) } catch (err) { expect((err as Error).name, `seed 42 case ${i}`).toBe('MalformedChangesetError') }
      }
    }
  })
  it('rejects a newer format version and wrong shapes with a clear message', () => {
    expect(() => decodeChangeset(encodeChangeset({ ...sample, version: 0 }))).toThrow(/version/)
    expect(() => decodeChangeset(encodeChangeset({ ...sample, seqs: [6, 5] }))).toThrow(/seq range/)
    expect(() => decodeChangeset(encodeChangeset({ ...sample, actor: new Uint8Array(3) }))).toThrow(/actor/)
    expect(() => decodeChangeset(new Uint8Array([0x93, 0x02, 0xa2, 0x63, 0x73]))).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
  })
  it('rejects a fractional timestamp (a damaged type byte) with the typed error', () => {
    const packr = new Packr({ useRecords: false })
    const bad = packr.pack([1, 'cs', actor, 3, 2, 5, 9, -2.96e-90, ['t'], []])
    expect(() => decodeChangeset(bad)).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
  })
})

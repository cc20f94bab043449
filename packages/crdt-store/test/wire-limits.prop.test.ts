/**
 * Remote input at the edges of the number ranges: a changeset with any version and seq either
 * applies with exact attribution (crsql_changes shows that version and seq, serve() returns it)
 * or is refused with MalformedChangesetError — never silently re-attributed. And a sync request
 * for a huge version range costs time in proportion to the versions held, not the range width.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, openStore } from '../src/index.ts'
import { fcParams } from './oracle/fc-config.ts'
import { changeRows } from './oracle/store-snapshot.ts'
import { hex } from './oracle/typed-value.ts'

const SCHEMA = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a)']
const ACTOR = new Uint8Array(16).fill(7)

const versionArb = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.constantFrom(2 ** 29 - 1, 2 ** 29, 2 ** 29 + 1, 2 ** 31, 2 ** 32 + 5, 2 ** 40, 2 ** 53 - 1),
  fc.integer({ min: 1, max: Number.MAX_SAFE_INTEGER })
)
const seqArb = fc.oneof(
  fc.integer({ min: 0, max: 100 }),
  fc.constantFrom(2 ** 24 - 1, 2 ** 24, 2 ** 24 + 3, 2 ** 31, 2 ** 32),
  fc.integer({ min: 0, max: 2 ** 40 })
)

describe('wire limits', () => {
  test('any (version, seq) is applied with exact attribution or refused with MalformedChangesetError', () => {
    fc.assert(fc.property(versionArb, seqArb, (version, seq) => {
      const s = openStore({ path: ':memory:' })
      try {
        s.applySchema(SCHEMA)
        const cs: Changeset = { actor: ACTOR, version, seqs: [0, seq], lastSeq: seq, ts: 1n, changes: [{ table: 't', pk: Uint8Array.of(1, 9, 1), cid: 'a', val: 5n, colVersion: 1, dbVersion: version, siteId: ACTOR, cl: 1, seq }] }
        let applied = true
        try { s.apply(cs) } catch (err) {
          expect((err as Error).name, (err as Error).message).toBe('MalformedChangesetError')
          applied = false
        }
        if (!applied) {
          expect(changeRows(s)).toEqual([])
          expect(s.syncStatus()).toEqual([])
          return
        }
        const rows = changeRows(s)
        expect(rows.length).toBe(1)
        const [, , cid, , , dbv, site, , sq] = rows[0]!.split('|')
        expect(cid).toBe('a')
        expect(site).toBe(hex(ACTOR))
        expect({ dbv, seq: sq }, `version ${version} seq ${seq} read back`).toEqual({ dbv: String(version), seq: String(seq) })
        const served = [...s.serve({ actors: [{ actor: ACTOR, full: [[version, version]], partial: [] }] })]
        expect(served.flatMap(c => c.changes.map(x => [x.dbVersion, x.seq]))).toEqual([[version, seq]])
      } finally { s.close() }
    }), fcParams(150))
  })

  test('serving a needs request for a huge version range is proportional to the versions held', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(SCHEMA)
      // One cleared version far ahead: versions 1..v-1 become a gap.
      const v = 20_000_000
      s.apply({ actor: ACTOR, version: v, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [] })
      const t0 = performance.now()
      const out = [...s.serve({ actors: [{ actor: ACTOR, full: [[1, v]], partial: [] }] })]
      const ms = performance.now() - t0
      expect(out.map(c => c.version)).toEqual([v])
      // Walking every version number of the range one by one takes seconds here.
      expect(ms, `serve took ${Math.round(ms)} ms for one held version`).toBeLessThan(1000)
    } finally { s.close() }
  })
})

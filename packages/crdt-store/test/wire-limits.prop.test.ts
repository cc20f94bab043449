/**
 * Remote input at the edges of the number ranges: a changeset with any version and seq either
 * applies with exact attribution (crsql_changes shows that version and seq, serve() returns it)
 * or is refused with MalformedChangesetError — never silently re-attributed. And a sync request
 * for a huge version range costs time in proportion to the versions held, not the range width.
 * Replay a failure with FC_SEED.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, type SqlValue, decodeChangeset, decodeNeeds, decodeSummary, encodeChangeset, encodeNeeds, encodeSummary, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { changeRows, snapshot } from './oracle/store-snapshot.ts'
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
  }, PROP_TIMEOUT)

  test('values SQLite cannot store (NaN) are refused or normalised: replicas still converge in any order', () => {
    const EVIL = new Uint8Array(16).fill(0xff)
    for (const val of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0] as SqlValue[]) {
      const mk = (): CrdtStore => { const s = openStore({ path: ':memory:' }); s.applySchema(SCHEMA); return s }
      const r1 = mk()
      const r2 = mk()
      try {
        const local = r1.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }]).changesets
        const odd = decodeChangeset(encodeChangeset({ actor: EVIL, version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [{ table: 't', pk: Uint8Array.of(1, 9, 1), cid: 'a', val, colVersion: 1, dbVersion: 1, siteId: EVIL, cl: 1, seq: 0 }] }))
        const tryApply = (s: CrdtStore, cs: Changeset): void => {
          try { s.apply(cs) } catch (err) { expect((err as Error).name, `${String(val)}: ${(err as Error).message}`).toBe('MalformedChangesetError') }
        }
        tryApply(r1, odd)
        tryApply(r2, odd)
        for (const cs of local) r2.apply(cs)
        expect(snapshot(r2), `value ${String(val)}: arrival order changed the outcome`).toEqual(snapshot(r1))
      } finally {
        r1.close()
        r2.close()
      }
    }
  })

  test('a changeset object with a junk field is refused with a typed error and nothing written', () => {
    const TYPED = new Set(['MalformedChangesetError', 'MalformedPkError', 'UnknownTableError', 'UnknownColumnError'])
    const junk = fc.oneof(
      fc.constantFrom<unknown>(undefined, null, -1, 1.5, Number.NaN, 2 ** 60, '', 'x', {}, [], true, 5n, -5n, new Uint8Array(0), new Uint8Array(40), Symbol.for('x')),
      fc.anything()
    )
    const fields = ['actor', 'version', 'seqs', 'lastSeq', 'ts', 'changes', 'c.table', 'c.pk', 'c.cid', 'c.val', 'c.colVersion', 'c.dbVersion', 'c.siteId', 'c.cl', 'c.seq', 'c']
    fc.assert(fc.property(fc.constantFrom(...fields), junk, (field, value) => {
      const s = openStore({ path: ':memory:' })
      try {
        s.applySchema(SCHEMA)
        s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }])
        const cs: Record<string, unknown> = { actor: ACTOR, version: 1, seqs: [0, 1], lastSeq: 1, ts: 5n, changes: [
          { table: 't', pk: Uint8Array.of(1, 9, 2), cid: 'a', val: 7n, colVersion: 1, dbVersion: 1, siteId: ACTOR, cl: 1, seq: 0 },
          { table: 't', pk: Uint8Array.of(1, 9, 3), cid: 'a', val: 'y', colVersion: 1, dbVersion: 1, siteId: ACTOR, cl: 1, seq: 1 }
        ] }
        const changes = cs.changes as Array<Record<string, unknown>>
        if (field === 'c') changes[1] = value as Record<string, unknown>
        else if (field.startsWith('c.')) changes[1]![field.slice(2)] = value
        else cs[field] = value
        const before = { snap: snapshot(s), status: s.syncStatus() }
        try {
          s.apply(cs as unknown as Changeset)
        } catch (err) {
          expect(TYPED.has((err as Error).name), `${field} = ${fc.stringify(value)}: untyped ${(err as Error).name}: ${(err as Error).message}`).toBe(true)
          expect({ snap: snapshot(s), status: s.syncStatus() }, `${field}: refused changeset wrote something`).toEqual(before)
        }
        // Either way the store keeps working.
        expect(s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (9, 'ok')" }]).version).toBe(2)
      } finally { s.close() }
    }), fcParams(300))
  }, PROP_TIMEOUT)

  test('needs() against a summary with many gaps costs time in proportion to its size', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(SCHEMA)
      const gaps: Array<[number, number]> = []
      for (let i = 0; i < 10_000; i++) gaps.push([2 * i + 1, 2 * i + 1])
      // A fragmented (or hostile) peer: versions 2, 4, 6, … held, the odd ones missing.
      const summary = decodeSummary(encodeSummary({ actors: [{ actor: ACTOR, head: 20_001, gaps, partials: [] }] }))
      const t0 = performance.now()
      const needs = s.needs(summary)
      const ms = performance.now() - t0
      expect(needs.actors[0]?.full.length).toBe(10_000)
      expect(ms, `needs() took ${Math.round(ms)} ms for a 10,000-gap summary`).toBeLessThan(800)
    } finally { s.close() }
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

  test('opening something that is not a usable database fails with a typed store error', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-badopen-'))
    try {
      writeFileSync(join(dir, 'junk.db'), 'not a database, just text '.repeat(200))
      for (const path of [join(dir, 'junk.db'), join(dir, 'missing-dir', 'x.db'), dir]) {
        let threw: Error | undefined
        try { openStore({ path }).close() } catch (err) { threw = err as Error }
        expect(threw, path).toBeDefined()
        // A class of the store's own (errors.ts), not better-sqlite3's SqliteError or a bare TypeError.
        expect(['SqliteError', 'TypeError', 'Error', 'RangeError'], `${path}: ${threw!.name}: ${threw!.message}`).not.toContain(threw!.name)
      }
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })

  test('arbitrary (decodable) summaries and needs from a peer never break needs() / serve()', () => {
    const src = openStore({ path: ':memory:', chunkBytes: 96 })
    const other = openStore({ path: ':memory:' })
    try {
      src.applySchema(SCHEMA)
      other.applySchema(SCHEMA)
      for (let i = 0; i < 6; i++) src.transaction([{ sql: 'INSERT OR REPLACE INTO t (id, a) VALUES (?, ?)', params: [i % 3, `v${i}`.repeat(10)] }])
      for (const cs of other.transaction([{ sql: "INSERT INTO t (id, a) VALUES (9, 'o')" }]).changesets) src.apply(cs)
      const actors = [src.siteId, other.siteId, new Uint8Array(16).fill(1)]
      const range = fc.tuple(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 })).map(([a, b]) => [a, a + b] as [number, number])
      const seqRange = fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })).map(([a, b]) => [a, a + b] as [number, number])
      const summaryArb = fc.record({ actors: fc.array(fc.record({ actor: fc.constantFrom(...actors), head: fc.integer({ min: 0, max: 12 }), gaps: fc.array(range, { maxLength: 3 }), partials: fc.array(fc.record({ version: fc.integer({ min: 1, max: 12 }), seqs: fc.array(seqRange, { maxLength: 2 }), lastSeq: fc.integer({ min: 0, max: 60 }) }), { maxLength: 2 }) }), { maxLength: 3 }) })
      const needsArb = fc.record({ actors: fc.array(fc.record({ actor: fc.constantFrom(...actors), full: fc.array(range, { maxLength: 3 }), partial: fc.array(fc.record({ version: fc.integer({ min: 1, max: 12 }), seqs: fc.array(seqRange, { maxLength: 2 }) }), { maxLength: 2 }) }), { maxLength: 3 }) })
      fc.assert(fc.property(summaryArb, needsArb, (sum, nd) => {
        src.needs(decodeSummary(encodeSummary(sum)))
        const served = [...src.serve(decodeNeeds(encodeNeeds(nd)))]
        const fresh = openStore({ path: ':memory:' })
        try {
          fresh.applySchema(SCHEMA)
          for (const cs of served) fresh.apply(decodeChangeset(encodeChangeset(cs)))
        } finally { fresh.close() }
      }), fcParams(200))
      // The source is unchanged by all that.
      expect(src.gapCount()).toBe(0)
    } finally {
      src.close()
      other.close()
    }
  }, PROP_TIMEOUT)
})

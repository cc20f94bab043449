/**
 * Schema drift between replicas: changes for a table or column a receiver does not have yet are
 * rejected with UnknownTableError / UnknownColumnError, whole version, nothing written and no
 * bookkeeping moved; versions it can take still apply; once the receiver's schema catches up,
 * anti-entropy fills every hole and both replicas converge. Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { snapshot } from './oracle/store-snapshot.ts'
import { sqlLiteral } from './oracle/typed-value.ts'
import { valueArb } from './oracle/random-ops.ts'

const V1 = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a)']
const V2 = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, d TEXT DEFAULT \'dd\')', 'CREATE TABLE extra (k TEXT PRIMARY KEY NOT NULL, v)']

const v = valueArb.map(sqlLiteral)
const id = fc.integer({ min: 1, max: 6 })
/** Writes valid under V2; some are also valid under V1. */
const opArb = fc.oneof(
  fc.tuple(id, v).map(([k, x]) => ({ v1: true, sql: `INSERT INTO t (id, a) VALUES (${k}, ${x}) ON CONFLICT (id) DO UPDATE SET a = excluded.a` })),
  id.map(k => ({ v1: true, sql: `DELETE FROM t WHERE id = ${k}` })),
  fc.tuple(id, v).map(([k, x]) => ({ v1: false, sql: `INSERT INTO t (id, d) VALUES (${k}, ${x}) ON CONFLICT (id) DO UPDATE SET d = excluded.d` })),
  fc.tuple(fc.constantFrom('x', 'y'), v).map(([k, x]) => ({ v1: false, sql: `INSERT OR REPLACE INTO extra (k, v) VALUES ('${k}', ${x})` }))
)

const REJECT = new Set(['UnknownTableError', 'UnknownColumnError'])

describe('schema drift', () => {
  test('unknown tables/columns reject whole versions; after the schema catches up, sync converges', () => {
    fc.assert(fc.property(fc.array(fc.array(opArb, { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 10 }), fc.constantFrom(64, 256), fc.gen(), (txs, chunkBytes, g) => {
      let t = 1_700_000_000_000
      const a: CrdtStore = openStore({ path: ':memory:', chunkBytes, now: () => t++ })
      const b: CrdtStore = openStore({ path: ':memory:', chunkBytes })
      try {
        a.applySchema(V1)
        b.applySchema(V1)
        expect(a.applySchema(V2).addedColumns).toEqual([{ table: 't', column: 'd' }])
        const chunks: Changeset[] = []
        for (const tx of txs) chunks.push(...a.transaction(tx.map(o => ({ sql: o.sql }))).changesets)
        for (const cs of g(fc.shuffledSubarray, chunks, { minLength: chunks.length })) {
          const before = { snap: snapshot(b), status: b.syncStatus() }
          const v2Only = cs.changes.some(c => c.table === 'extra' || c.cid === 'd')
          try {
            b.apply(cs)
            expect(v2Only, 'a chunk naming an unknown table/column was accepted').toBe(false)
          } catch (err) {
            expect(v2Only, `a chunk with only known tables/columns was rejected: ${(err as Error).message}`).toBe(true)
            const name = (err as Error).name
            expect(REJECT.has(name), `unexpected ${name}: ${(err as Error).message}`).toBe(true)
            expect(snapshot(b), 'a rejected changeset wrote data').toEqual(before.snap)
            expect(b.syncStatus(), 'a rejected changeset moved bookkeeping').toEqual(before.status)
          }
        }
        // Catch up the schema and sync: everything converges, no gaps.
        b.applySchema(V2)
        for (const cs of a.serve(b.needs(a.summary()))) b.apply(cs)
        expect(b.gapCount()).toBe(0)
        expect(b.syncStatus().every(s => s.partials.length === 0)).toBe(true)
        expect(snapshot(b)).toEqual(snapshot(a))
      } finally {
        a.close()
        b.close()
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)
})

describe('local constraints and remote changes', () => {
  test('a remote change that breaks a local constraint is refused with a typed error and poisons nothing', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT NOT NULL DEFAULT 'x', n INTEGER CHECK (n >= 0))"])
      const X = new Uint8Array(16).fill(0x42)
      const cs = (cid: string, val: Changeset['changes'][number]['val']): Changeset => ({ actor: X, version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [{ table: 't', pk: Uint8Array.of(1, 9, 1), cid, val, colVersion: 1, dbVersion: 1, siteId: X, cl: 1, seq: 0 }] })
      for (const bad of [cs('a', null), cs('n', -5n)]) {
        const before = { snap: snapshot(s), status: s.syncStatus() }
        let threw: Error | undefined
        try { s.apply(bad) } catch (err) { threw = err as Error }
        expect(threw).toBeDefined()
        expect(['SqlError', 'MalformedChangesetError'], `${threw!.name}: ${threw!.message}`).toContain(threw!.name)
        expect({ snap: snapshot(s), status: s.syncStatus() }).toEqual(before)
      }
      // The same actor's valid version afterwards is fully visible: data, crsql_changes and serve().
      expect(s.apply(cs('a', 'ok')).status).toBe('applied')
      const rows = [...s.read("SELECT cid, val, hex(site_id) FROM crsql_changes WHERE \"table\" = 't'").rows]
      expect(rows, 'the merged cell is missing from crsql_changes').toEqual([['a', 'ok', Buffer.from(X).toString('hex').toUpperCase()]])
      const served = [...s.serve({ actors: [{ actor: X, full: [[1, 1]], partial: [] }] })].flatMap(c => c.changes.map(x => x.val))
      expect(served).toEqual(['ok'])
    } finally { s.close() }
  })

  test('a CHECK constraint across columns is refused, or concurrent valid writes still converge', () => {
    const schema = ['CREATE TABLE r (id INTEGER PRIMARY KEY NOT NULL, lo INTEGER NOT NULL DEFAULT 0, hi INTEGER NOT NULL DEFAULT 10, CHECK (lo <= hi))']
    const a = openStore({ path: ':memory:' })
    const b = openStore({ path: ':memory:' })
    try {
      try { a.applySchema(schema) } catch (err) {
        expect((err as Error).name).toBe('SchemaChangeError')
        return
      }
      b.applySchema(schema)
      for (const cs of a.transaction([{ sql: 'INSERT INTO r (id, lo, hi) VALUES (1, 0, 10)' }]).changesets) b.apply(cs)
      // Each write is valid where it is made; together they break the CHECK.
      const ta = a.transaction([{ sql: 'UPDATE r SET lo = 8 WHERE id = 1' }]).changesets
      const tb = b.transaction([{ sql: 'UPDATE r SET hi = 5 WHERE id = 1' }]).changesets
      for (const cs of tb) a.apply(cs)
      for (const cs of ta) b.apply(cs)
      expect(snapshot(a)).toEqual(snapshot(b))
    } finally {
      a.close()
      b.close()
    }
  })
})

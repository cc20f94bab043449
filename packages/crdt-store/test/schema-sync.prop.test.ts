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

/**
 * Column affinity at merge time: whatever value a peer sends for a typed column (a peer with an
 * older schema, or a buggy one, may send TEXT for an INTEGER column and so on), the value the merge
 * compares must be the value SQLite stores, so replicas that receive the same changes in different
 * orders end with the same row. Declared types follow SQLite's affinity rules (e.g. FLOATING POINT
 * is INTEGER affinity, STRING is NUMERIC). Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, type SqlValue, openStore, packPk } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { snapshot } from './oracle/store-snapshot.ts'

const COLS = ['ci INTEGER', 'cr REAL', 'ct TEXT', 'cb BLOB', 'cu', 'cn NUMERIC', 'cf "FLOATING POINT"', 'cs STRING', 'cd DATETIME', 'cv VARCHAR(10)', 'cbo BOOLEAN']
const SCHEMA = [`CREATE TABLE a (id INTEGER PRIMARY KEY NOT NULL, ${COLS.join(', ')})`]
const NAMES = COLS.map(c => c.split(' ')[0]!)

const valueArb: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.constantFrom(0n, 1n, -1n, 12n, 2n ** 53n + 1n),
  fc.double({ noNaN: true }),
  fc.constantFrom(0, 1, 1.5, -0, 3, 1e20, 2 ** 63, -(2 ** 63), 1e-7),
  fc.constantFrom('12', ' 12 ', '1.0', '1.5', '1e2', '0x10', '12abc', '-0', '9223372036854775808', '9223372036854775807', '', 'x', '00012', '1.5e400', '  -3.25'),
  fc.string({ maxLength: 6 }),
  fc.uint8Array({ maxLength: 4 })
)

const ACTORS = [new Uint8Array(16).fill(0x11), new Uint8Array(16).fill(0x22), new Uint8Array(16).fill(0x33)]

function cs (actor: Uint8Array, col: string, val: SqlValue, colVersion: number): Changeset {
  return { actor, version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [{ table: 'a', pk: Uint8Array.of(1, 9, 1), cid: col, val, colVersion, dbVersion: 1, siteId: actor, cl: 1, seq: 0 }] }
}

describe('affinity at merge time', () => {
  test('the same remote writes in any order give the same row', () => {
    fc.assert(fc.property(fc.constantFrom(...NAMES), fc.array(fc.tuple(valueArb, fc.integer({ min: 1, max: 2 })), { minLength: 2, maxLength: 3 }), fc.gen(), (col, writes, g) => {
      const changesets = writes.map(([v, cv], i) => cs(ACTORS[i]!, col, v, cv))
      const orders = [changesets, [...changesets].reverse(), g(fc.shuffledSubarray, changesets, { minLength: changesets.length })]
      const stores: CrdtStore[] = orders.map(() => { const s = openStore({ path: ':memory:' }); s.applySchema(SCHEMA); return s })
      try {
        orders.forEach((order, i) => { for (const c of order) stores[i]!.apply(c) })
        const want = snapshot(stores[0]!)
        for (let i = 1; i < stores.length; i++) expect(snapshot(stores[i]!), `order ${i} differs for column ${col}`).toEqual(want)
      } finally {
        for (const s of stores) s.close()
      }
    }), fcParams(100))
  }, PROP_TIMEOUT)
})

describe('key affinity at merge time', () => {
  const KEY_SCHEMA = [
    'CREATE TABLE p (id INTEGER PRIMARY KEY NOT NULL, v)',
    'CREATE TABLE q (k TEXT PRIMARY KEY NOT NULL, v)',
    'CREATE TABLE r (k REAL PRIMARY KEY NOT NULL, v)',
    'CREATE TABLE n (k NUMERIC PRIMARY KEY NOT NULL, v)'
  ]
  // Ways a peer might spell the key 8 (or something close to it).
  const keyArb: fc.Arbitrary<SqlValue> = fc.constantFrom<SqlValue>(8n, 8, 8.5, '8', ' 8', '8.0', '08', 'x8', 9n)

  test('the same row spelled with different key storage classes merges the same in any order', () => {
    fc.assert(fc.property(
      fc.constantFrom('p', 'q', 'r', 'n'),
      fc.array(fc.tuple(keyArb, fc.string({ maxLength: 3 }), fc.integer({ min: 1, max: 2 })), { minLength: 2, maxLength: 3 }),
      (table, writes) => {
        const changesets = writes.map(([key, val, cv], i) => ({
          actor: ACTORS[i]!, version: 1, seqs: [0, 0] as [number, number], lastSeq: 0, ts: 1n,
          changes: [{ table, pk: packPk([key]), cid: 'v', val, colVersion: cv, dbVersion: 1, siteId: ACTORS[i]!, cl: 1, seq: 0 }]
        }))
        const stores: CrdtStore[] = [0, 1].map(() => { const s = openStore({ path: ':memory:' }); s.applySchema(KEY_SCHEMA); return s })
        try {
          // A key the column cannot hold (8.5 or 'x8' for an INTEGER PRIMARY KEY) must be refused
          // with a typed error, nothing written; the others still merge.
          const tryApply = (s: CrdtStore, cs: Changeset): void => {
            try { s.apply(cs) } catch (err) {
              expect(['MalformedChangesetError', 'MalformedPkError'], `${(err as Error).name}: ${(err as Error).message}`).toContain((err as Error).name)
            }
          }
          for (const cs of changesets) tryApply(stores[0]!, cs)
          for (const cs of [...changesets].reverse()) tryApply(stores[1]!, cs)
          expect(snapshot(stores[1]!), `table ${table}`).toEqual(snapshot(stores[0]!))
          // The key in crsql_changes is the key as the table stores it.
          const rows = [...stores[0]!.read(`SELECT count(*) FROM "${table}"`).rows]
          const cells = [...stores[0]!.read(`SELECT count(DISTINCT pk) FROM crsql_changes WHERE "table" = '${table}'`).rows]
          expect(cells, 'one crsql_changes key per stored row').toEqual(rows)
        } finally {
          for (const s of stores) s.close()
        }
      }), fcParams(150))
  }, PROP_TIMEOUT)
})

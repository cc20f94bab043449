/**
 * A local transaction with a failing statement anywhere in it leaves no trace: same data, same
 * `crsql_changes`, same bookkeeping, no commit event, and the next successful transaction gets the
 * next version and exactly the changes a replica that never saw the failure would produce.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Change, type CommitEvent, type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { snapshot } from './oracle/store-snapshot.ts'

const POISON = [
  'INSERT INTO nosuchtable (x) VALUES (1)',
  'UPDATE t SET nosuchcolumn = 1',
  'INSERT INTO m (x, y) VALUES (1, NULL)',
  'SELECT abs(-9223372036854775807 - 1)',
  'INSERT INTO t (id, a) SELECT 1, 1 UNION ALL SELECT 1, 2',
  'INSERT INTO tags (k) VALUES (\'dup\'), (\'dup\')',
  'SELEC 1',
  'CREATE TABLE sneaky (id INTEGER PRIMARY KEY NOT NULL)',
  'DROP TABLE t',
  'ALTER TABLE t ADD COLUMN z'
]
const TYPED = new Set(['SqlError', 'SchemaChangeError', 'CrrRuleError', 'UnknownTableError', 'UnknownColumnError'])

function fresh (): CrdtStore {
  let t = 1_700_000_000_000
  const s = openStore({ path: ':memory:', now: () => t++ })
  s.applySchema(RANDOM_SCHEMA)
  return s
}

const shape = (cs: readonly Change[]): unknown[] => cs.map(c => [c.table, Buffer.from(c.pk).toString('hex'), c.cid, c.val, c.colVersion, c.cl, c.seq])

describe('transaction atomicity', () => {
  test('a failing statement anywhere rolls the whole transaction back and consumes no version', () => {
    fc.assert(fc.property(
      fc.array(txArb({ pkChanges: true }), { maxLength: 5 }),
      txArb({ pkChanges: true }), fc.nat(), fc.constantFrom(...POISON),
      txArb({ pkChanges: true }),
      (history, victim, at, poison, after) => {
        const s = fresh()
        const twin = fresh()
        try {
          let head = 0
          for (const tx of history) {
            const v1 = s.transaction(tx.map(sql => ({ sql }))).version
            const v2 = twin.transaction(tx.map(sql => ({ sql }))).version
            expect(v1).toBe(v2)
            if (v1 !== null) { expect(v1).toBe(head + 1); head = v1 }
          }
          const before = { snap: snapshot(s), status: s.syncStatus(), summary: s.summary() }
          const events: CommitEvent[] = []
          const off = s.onCommit(ev => { events.push(ev) })
          const stmts = [...victim]
          stmts.splice(at % (stmts.length + 1), 0, poison)
          let threw: Error | undefined
          try { s.transaction(stmts.map(sql => ({ sql }))) } catch (err) { threw = err as Error }
          off()
          expect(threw, `accepted: ${poison}`).toBeDefined()
          expect(TYPED.has(threw!.name), `${poison}: untyped ${threw!.name}: ${threw!.message}`).toBe(true)
          expect(events).toEqual([])
          expect({ snap: snapshot(s), status: s.syncStatus(), summary: s.summary() }).toEqual(before)
          // Same next transaction on both: same version number and the same changes.
          const r1 = s.transaction(after.map(sql => ({ sql })))
          const r2 = twin.transaction(after.map(sql => ({ sql })))
          expect(r1.version).toBe(r2.version)
          if (r1.version !== null) expect(r1.version).toBe(head + 1)
          expect(shape(r1.changesets.flatMap(c => c.changes))).toEqual(shape(r2.changesets.flatMap(c => c.changes)))
        } finally {
          s.close()
          twin.close()
        }
      }), fcParams(80))
  }, PROP_TIMEOUT)

  test('re-entrant store calls inside transaction(fn) fail with a typed error and roll the outer transaction back', () => {
    const s = fresh()
    const other = fresh()
    try {
      const foreign = other.transaction([{ sql: "INSERT INTO tags (k) VALUES ('o')" }]).changesets[0]!
      const inner: Array<[string, () => unknown]> = [
        ['transaction', () => s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('inner')" }])],
        ['apply', () => s.apply(foreign)],
        ['applySchema', () => s.applySchema([...RANDOM_SCHEMA, 'CREATE TABLE extra (id INTEGER PRIMARY KEY NOT NULL)'])]
      ]
      for (const [what, call] of inner) {
        const before = snapshot(s)
        let threw: Error | undefined
        try {
          s.transaction(tx => { tx.run("INSERT INTO tags (k) VALUES ('outer')"); call(); return null })
        } catch (err) { threw = err as Error }
        expect(threw, what).toBeDefined()
        expect(TYPED.has(threw!.name), `${what} inside transaction(fn): untyped ${threw!.name}: ${threw!.message}`).toBe(true)
        expect(snapshot(s), what).toEqual(before)
      }
      expect(s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('after')" }]).version).toBe(1)
    } finally {
      s.close()
      other.close()
    }
  })
})

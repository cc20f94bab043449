/**
 * The store's own metadata (clock tables, version rows, site ids, bookkeeping) and the functions
 * its triggers call are not writable through `transaction()`: SQL arriving from clients must not be
 * able to forge versions or corrupt replication state. Every such statement is refused with a typed
 * error and leaves data, `crsql_changes` and bookkeeping as they were. Replay with FC_SEED.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { snapshot } from './oracle/store-snapshot.ts'

const SCHEMA = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a)', 'CREATE TABLE tags (k TEXT PRIMARY KEY NOT NULL)']
const TYPED = new Set(['SqlError', 'StatementNotReadonlyError', 'SchemaChangeError', 'CrrRuleError'])

function internalTables (s: CrdtStore): string[] {
  const user = new Set(s.schema().tables.map(t => t.name))
  const cur = s.read("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'")
  const names = [...cur.rows].map(r => String(r[0]))
  return names.filter(n => !user.has(n))
}

function state (s: CrdtStore): unknown {
  return { snap: snapshot(s), status: s.syncStatus(), summary: s.summary() }
}

describe('internal state is not writable through transaction()', () => {
  test('writes to internal tables and calls of trigger functions are refused, nothing changes', () => {
    const probe = openStore({ path: ':memory:' })
    probe.applySchema(SCHEMA)
    const tables = internalTables(probe)
    probe.close()
    expect(tables.length).toBeGreaterThan(0)
    const forged = fc.oneof(
      fc.constantFrom(...tables).map(n => `DELETE FROM "${n}"`),
      fc.constantFrom(...tables).map(n => `UPDATE "${n}" SET rowid = rowid`),
      fc.constantFrom(...tables).map(n => `INSERT INTO "${n}" DEFAULT VALUES`),
      fc.constantFrom(
        "SELECT patina_sq(5, 0, 't', 1)",
        "SELECT patina_last(0, 't', 1)",
        'SELECT patina_stamp()',
        'SELECT patina_existed(1, 1)'
      )
    )
    fc.assert(fc.property(forged, fc.boolean(), (sql, withUserWrite) => {
      const s = openStore({ path: ':memory:' })
      try {
        s.applySchema(SCHEMA)
        s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }, { sql: "INSERT INTO tags (k) VALUES ('a')" }])
        const before = state(s)
        const statements = withUserWrite ? [{ sql: "UPDATE t SET a = 'y' WHERE id = 1" }, { sql }] : [{ sql }]
        let threw: Error | undefined
        try { s.transaction(statements) } catch (err) { threw = err as Error }
        expect(threw, `accepted: ${sql}`).toBeDefined()
        expect(TYPED.has(threw!.name), `${sql}: untyped ${threw!.name}: ${threw!.message}`).toBe(true)
        expect(state(s), `${sql} changed the store`).toEqual(before)
        // The store still works and numbers versions consecutively.
        expect(s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('b')" }]).version).toBe(2)
      } finally { s.close() }
    }), fcParams(60))
  }, PROP_TIMEOUT)

  test('read() refuses writes and its trigger-function calls change nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-readonly-'))
    try {
      for (const path of [':memory:', join(dir, 'r.db')]) {
        const s = openStore({ path })
        try {
          s.applySchema(SCHEMA)
          s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }])
          const before = state(s)
          for (const sql of ["DELETE FROM t", "UPDATE t SET a = 'y'", "INSERT INTO tags (k) VALUES ('z')", 'WITH x AS (SELECT 1) DELETE FROM t', "REPLACE INTO tags (k) VALUES ('q')", 'DELETE FROM __patina_versions']) {
            let threw: Error | undefined
            try { s.read(sql) } catch (err) { threw = err as Error }
            expect(threw?.name, sql).toBe('StatementNotReadonlyError')
          }
          for (const sql of ["SELECT patina_sq(5, 0, 't', 1)", "SELECT patina_last(0, 't', 1)", 'SELECT patina_stamp()', 'SELECT patina_existed(1, 1)']) {
            try {
              const cur = s.read(sql)
              try { [...cur.rows] } finally { cur.close() }
            } catch (err) {
              expect(TYPED.has((err as Error).name), `${sql}: untyped ${(err as Error).name}`).toBe(true)
            }
            expect(state(s), `${sql} through read() changed the store`).toEqual(before)
          }
          expect(s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('b')" }]).version).toBe(2)
        } finally { s.close() }
      }
    } finally { rmSync(dir, { recursive: true, force: true }) }
  })
})

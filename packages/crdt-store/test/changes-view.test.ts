import { describe, expect, it } from 'vitest'
import { hex, pull, stores } from './helpers.ts'

describe('crsql_changes view', () => {
  it('lists exactly the cells changes() serves, across actors, tables and key shapes', () => {
    const schema = "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b REAL); CREATE TABLE c (k TEXT NOT NULL, n INTEGER NOT NULL, v BLOB, PRIMARY KEY (k, n)); CREATE TABLE p (k TEXT PRIMARY KEY NOT NULL)"
    const [a, b] = stores(2, schema)
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x', 1.5), (2, 'y', NULL)" }, { sql: "INSERT INTO c VALUES ('k', 1, x'00')" }, { sql: "INSERT INTO p VALUES ('one')" }])
    b!.transaction([{ sql: "INSERT INTO t VALUES (3, 'z', 2.5)" }])
    pull(a!, b!)
    a!.transaction([{ sql: "UPDATE t SET a = 'x2' WHERE id = 1" }, { sql: 'DELETE FROM t WHERE id = 2' }, { sql: "DELETE FROM p WHERE k = 'one'" }])
    const key = (r: unknown[]): string => JSON.stringify(r.map(v => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? 'x' + hex(v) : v))
    const view = [...a!.read('SELECT "table", pk, cid, val, col_version, db_version, site_id, cl, seq FROM crsql_changes').rows].map(key).sort()
    const served = [a!, b!].flatMap(s => a!.changes(s.siteId, 1, 100)).map(c => key([c.table, c.pk, c.cid, typeof c.val === 'bigint' && c.val <= 9007199254740991n ? Number(c.val) : c.val, c.colVersion, c.dbVersion, c.siteId, c.cl, c.seq])).sort()
    expect(view).toEqual(served)
    expect(view.length).toBeGreaterThan(5)
    a!.close(); b!.close()
  })
})

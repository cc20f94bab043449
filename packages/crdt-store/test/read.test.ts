import { describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import { VERSION_RANGE_SQL, VERSION_SQL } from '../src/store.ts'

describe('read', () => {
  it('returns column names/types and lazily iterated rows', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, r REAL, big INTEGER, bl BLOB)')
    s.transaction([{ sql: 'INSERT INTO t VALUES (?, ?, ?, ?, ?)', params: [1, 'x', 1.5, 9007199254740993n, new Uint8Array([1, 2])] }])
    const cur = s.read('SELECT id, a, r, big, bl, 1 + 1 AS two FROM t WHERE id = ?', [1])
    expect(cur.columns).toEqual([{ name: 'id', type: 'INTEGER' }, { name: 'a', type: 'TEXT' }, { name: 'r', type: 'REAL' }, { name: 'big', type: 'INTEGER' }, { name: 'bl', type: 'BLOB' }, { name: 'two', type: null }])
    const [row] = [...cur.rows]
    expect(row!.slice(0, 4)).toEqual([1, 'x', 1.5, 9007199254740993n])
    expect(Buffer.from(row![4] as Uint8Array).toString('hex')).toBe('0102')
    cur.close()
    s.close()
  })
  it('refuses statements that could write, with StatementNotReadonlyError', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL)')
    for (const sql of ['INSERT INTO t VALUES (1)', 'DELETE FROM t', 'UPDATE t SET id = 2', 'CREATE TABLE x (a)', 'DROP TABLE t', 'BEGIN']) {
      expect(() => s.read(sql)).toThrow(expect.objectContaining({ name: 'StatementNotReadonlyError' }))
    }
    expect(() => s.read('SELEC nonsense')).toThrow(expect.objectContaining({ name: 'SqlError' }))
    expect(() => s.read('SELECT * FROM missing')).toThrow(expect.objectContaining({ name: 'SqlError' }))
    expect([...s.read('SELECT count(*) FROM t').rows]).toEqual([[0]])
    s.close()
  })
  it('reads changes of an actor by version range and row key through indexes (EXPLAIN QUERY PLAN)', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT); CREATE TABLE c (k TEXT NOT NULL, n INTEGER NOT NULL, v TEXT, PRIMARY KEY (k, n))')
    const plan = (sql: string): string[] => [...s.read('EXPLAIN QUERY PLAN ' + sql, [...sql.matchAll(/\?/g)].map(() => 1)).rows].map(r => String(r[3]))
    for (const sql of [VERSION_SQL, VERSION_RANGE_SQL]) {
      const p = plan(sql)
      expect(p.join(' | ')).toMatch(/SEARCH __patina_versions USING PRIMARY KEY/)
      expect(p.join(' | ')).not.toMatch(/SCAN/)
    }
    for (const sql of ['SELECT "__cl", "__ss", "__st", "a__v", "a__s", "a__t" FROM "t__crsql_clock" WHERE "id" = ?', 'SELECT "__cl" FROM "c__crsql_clock" WHERE "k" = ? AND "n" = ?', 'SELECT "a" FROM "t" WHERE "id" = ?']) {
      expect(plan(sql).join(' | ')).toMatch(/SEARCH .* USING (INTEGER )?PRIMARY KEY/)
    }
    // the crsql_changes view searches the same indexes for an actor's versions
    for (const sql of ['SELECT * FROM crsql_changes WHERE site_id = ? AND db_version BETWEEN ? AND ?', 'SELECT * FROM crsql_changes WHERE site_id = ? AND db_version > ?']) {
      const p = plan(sql).join(' | ')
      expect(p).toMatch(/SEARCH s USING (COVERING )?INDEX/)
      expect(p).toMatch(/SEARCH v USING PRIMARY KEY \(site=\? AND dbv>\?/)
      expect(p).not.toMatch(/SCAN (s|v|c)\b/)
    }
    // and changes() finds exactly the version's cells
    s.transaction([{ sql: "INSERT INTO t VALUES (1, 'a'), (2, 'b')" }])
    s.transaction([{ sql: "INSERT INTO c VALUES ('x', 1, 'v')" }])
    s.transaction([{ sql: "UPDATE t SET a = 'z' WHERE id = 1" }])
    expect(s.changes(s.siteId, 1, 1).map(c => [c.table, c.cid, c.val])).toEqual([['t', 'a', 'b']])
    expect(s.changes(s.siteId, 2, 3).map(c => [c.dbVersion, c.table, c.cid, c.val])).toEqual([[2, 'c', 'v', 'v'], [3, 't', 'a', 'z']])
    s.close()
  })
})

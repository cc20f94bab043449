import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import { VERSION_RANGE_SQL, VERSION_SQL } from '../src/store.ts'

describe('read', () => {
  it('returns column names/types and lazily iterated rows', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, r REAL, big INTEGER, bl BLOB)')
    s.transaction([{ sql: 'INSERT INTO t VALUES (?, ?, ?, ?, ?)', params: [1, 'x', 1.5, 9007199254740993n, new Uint8Array([1, 2])] }])
    const cur = s.read('SELECT id, a, r, big, bl, 1 + 1 AS two FROM t WHERE id = ?', [1])
    const col = (name: string, type: string | null): object => ({ name, type, table: type == null ? null : 't', column: type == null ? null : name })
    expect(cur.columns).toEqual([col('id', 'INTEGER'), col('a', 'TEXT'), col('r', 'REAL'), col('big', 'INTEGER'), col('bl', 'BLOB'), col('two', null)])
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

  it('names the table column behind each result column, for aliases and joins too', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)', 'CREATE TABLE u (k INTEGER PRIMARY KEY NOT NULL, t_id INTEGER)'])
    const { columns } = s.readAll('SELECT u.k AS key, t.a AS label, count(*) AS n FROM u JOIN t ON t.id = u.t_id GROUP BY u.k')
    expect(columns).toEqual([
      { name: 'key', type: 'INTEGER', table: 'u', column: 'k' },
      { name: 'label', type: 'TEXT', table: 't', column: 'a' },
      { name: 'n', type: null, table: null, column: null }
    ])
    s.close()
  })
})

describe('read statements, readAll and readBatch on a file store', () => {
  const withFileStore = (fn: (s: ReturnType<typeof openStore>) => void): void => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-read-'))
    const s = openStore({ path: join(dir, 'db.sqlite') })
    try { fn(s) } finally { s.close(); rmSync(dir, { recursive: true, force: true }) }
  }
  it('runs the same statement twice at once (an open cursor does not block a second one)', () => {
    withFileStore(s => {
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)')
      s.transaction(tx => { for (let i = 0; i < 5; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v' + i]) })
      const sql = 'SELECT id FROM t ORDER BY id'
      const c1 = s.read(sql)
      expect(c1.rows.next().value).toEqual([0])
      expect(s.readAll(sql).rows).toEqual([[0], [1], [2], [3], [4]])
      const c2 = s.read(sql)
      expect([...c2.rows]).toEqual([[0], [1], [2], [3], [4]])
      expect([...c1.rows]).toEqual([[1], [2], [3], [4]])
    })
  })
  it('readBatch reads one snapshot; writes made meanwhile show after it', () => {
    withFileStore(s => {
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)')
      s.transaction([{ sql: "INSERT INTO t VALUES (1, 'a')" }])
      const count = (): unknown => s.readAll('SELECT count(*) FROM t').rows[0]![0]
      const seen = s.readBatch(() => {
        const before = count()
        s.transaction([{ sql: "INSERT INTO t VALUES (2, 'b')" }])
        return [before, count()]
      })
      expect(seen).toEqual([1, 1])
      expect(count()).toBe(2)
      // nested batches and errors leave no transaction behind
      expect(() => s.readBatch(() => s.readBatch(() => { throw new Error('boom') }))).toThrow('boom')
      s.transaction([{ sql: "INSERT INTO t VALUES (3, 'c')" }])
      expect(count()).toBe(3)
    })
  })
  it('a cursor left open by a batch keeps working, and later reads see new writes once it ends', () => {
    withFileStore(s => {
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL)')
      s.transaction(tx => { for (let i = 0; i < 3; i++) tx.run('INSERT INTO t VALUES (?)', [i]) })
      const cur = s.readBatch(() => {
        const c = s.read('SELECT id FROM t ORDER BY id')
        expect(c.rows.next().value).toEqual([0])
        return c
      })
      s.transaction([{ sql: 'INSERT INTO t VALUES (10)' }])
      // the cursor reads on in the batch's snapshot
      expect([...cur.rows]).toEqual([[1], [2]])
      expect(s.readAll('SELECT count(*) FROM t').rows).toEqual([[4]])
    })
  })
  it('an open cursor does not hold other reads on its snapshot: they see commits made meanwhile', () => {
    withFileStore(s => {
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, pad TEXT)')
      s.transaction(tx => { for (let i = 0; i < 2000; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'x'.repeat(200)]) })
      const cursors = [s.read('SELECT id FROM t ORDER BY id'), s.read('SELECT count(*) FROM t'), s.read('SELECT id FROM t ORDER BY id DESC')]
      for (const c of cursors) c.rows.next()
      s.transaction([{ sql: "INSERT INTO t VALUES (5000, 'new')" }])
      // whole-result reads, batches and a new cursor all see the commit while the others stay open
      expect(s.readAll('SELECT count(*) FROM t').rows).toEqual([[2001]])
      expect(s.readBatch(() => s.readAll('SELECT pad FROM t WHERE id = 5000').rows)).toEqual([['new']])
      const fresh = s.read('SELECT max(id) FROM t')
      expect([...fresh.rows]).toEqual([[5000]])
      // each open cursor reads on in the snapshot it started with
      expect([...cursors[0]!.rows]).toHaveLength(1999)
      cursors[1]!.close()
      cursors[2]!.close()
      s.transaction([{ sql: 'DELETE FROM t WHERE id < 1000' }])
      expect(s.readAll('SELECT count(*) FROM t').rows).toEqual([[1001]])
      // cursors opened after a schema change see the new column, one still open keeps working
      const old = s.read('SELECT id FROM t ORDER BY id')
      old.rows.next()
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, pad TEXT, extra TEXT)')
      expect(s.read('SELECT * FROM t LIMIT 1').columns.map(c => c.name)).toEqual(['id', 'pad', 'extra'])
      expect([...old.rows]).toHaveLength(1000)
    })
  })
  it('sees a column added by a schema change (prepared statements are dropped)', () => {
    withFileStore(s => {
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL)')
      s.transaction([{ sql: 'INSERT INTO t VALUES (1)' }])
      expect(s.readAll('SELECT * FROM t').columns.map(c => c.name)).toEqual(['id'])
      s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, extra TEXT)')
      expect(s.readAll('SELECT * FROM t').columns.map(c => c.name)).toEqual(['id', 'extra'])
    })
  })
})

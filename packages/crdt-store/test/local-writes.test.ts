import { describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import type { CrdtStore } from '../src/index.ts'
import { changesView, hex } from './helpers.ts'

function store (): CrdtStore {
  const s = openStore({ path: ':memory:', now: () => 1_700_000_000_000 })
  s.applySchema("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER DEFAULT 0); CREATE TABLE k (x TEXT PRIMARY KEY NOT NULL)")
  return s
}

/** [cid, col_version, db_version, cl, seq] of one row's cells. */
function cells (s: CrdtStore, table: string, pk: string): unknown[] {
  return [...s.read('SELECT cid, col_version, db_version, cl, seq FROM crsql_changes WHERE "table" = ? AND hex(pk) = ? ORDER BY db_version, seq', [table, pk]).rows]
}

describe('local writes', () => {
  it('numbers versions 1, 2, 3… per actor; no-op transactions get none', () => {
    const s = store()
    expect(s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }]).version).toBe(1)
    expect(s.transaction([{ sql: 'SELECT * FROM t' }]).version).toBeNull()
    expect(s.transaction([{ sql: 'UPDATE t SET a = a' }]).version).toBeNull()
    expect(s.transaction([{ sql: 'DELETE FROM t WHERE id = 99' }]).version).toBeNull()
    expect(s.transaction([{ sql: "UPDATE t SET a = 'y'" }]).version).toBe(2)
    const r = s.transaction(tx => { tx.run('INSERT INTO t (id) VALUES (2)'); return tx.all('SELECT count(*) AS n FROM t')[0]!.n })
    expect(r).toMatchObject({ version: 3, value: 2 })
    expect([...s.read('SELECT crsql_db_version(), hex(crsql_site_id())').rows]).toEqual([[3, hex(s.siteId).toUpperCase()]])
    s.close()
  })
  it('returns per-statement results and rolls back everything on error', () => {
    const s = store()
    const r = s.transaction([{ sql: 'INSERT INTO t (id, a) VALUES (?, ?), (?, ?)', params: [1, 'a', 2, 'b'] }, { sql: 'UPDATE t SET b = :b WHERE id = :id', params: { ':b': 5, id: 1 } }])
    expect(r.results.map(x => x.rowsAffected)).toEqual([2, 1])
    expect(r.results.every(x => x.time >= 0)).toBe(true)
    expect(() => s.transaction([{ sql: "INSERT INTO t (id) VALUES (3)" }, { sql: 'INSERT INTO nope VALUES (1)' }])).toThrow(expect.objectContaining({ name: 'SqlError' }))
    expect(() => s.transaction([{ sql: 'INSERT INTO t (id) VALUES (1)' }])).toThrow(expect.objectContaining({ name: 'SqlError', code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }))
    expect(() => s.transaction([{ sql: 'CREATE TABLE z (id INTEGER PRIMARY KEY)' }])).toThrow(expect.objectContaining({ name: 'SqlError' }))
    expect(() => s.transaction(() => { throw new Error('boom') })).toThrow('boom')
    expect([...s.read('SELECT id FROM t ORDER BY id').rows]).toEqual([[1], [2]])
    expect(s.transaction([{ sql: 'INSERT INTO t (id) VALUES (3)' }]).version).toBe(2)
    s.close()
  })
  it('records one clock per column, bumps only changed columns (storage class counts)', () => {
    const s = store()
    s.transaction([{ sql: "INSERT INTO t (id, a, b) VALUES (1, 'x', 3)" }])
    expect(cells(s, 't', '010901')).toEqual([['a', 1, 1, 1, 1], ['b', 1, 1, 1, 2]])
    s.transaction([{ sql: "UPDATE t SET a = 'y', b = 3 WHERE id = 1" }])
    expect(cells(s, 't', '010901')).toEqual([['b', 1, 1, 1, 2], ['a', 2, 2, 1, 0]])
    s.transaction([{ sql: 'UPDATE t SET b = 3.0 WHERE id = 1' }]) // INTEGER affinity keeps 3: no change
    s.transaction([{ sql: "UPDATE t SET a = 'y', b = '3x' WHERE id = 1" }])
    expect(cells(s, 't', '010901')).toEqual([['a', 2, 2, 1, 0], ['b', 2, 3, 1, 0]])
    s.close()
  })
  it('tracks causal length through delete and re-insert', () => {
    const s = store()
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }])
    s.transaction([{ sql: 'DELETE FROM t WHERE id = 1' }])
    expect(cells(s, 't', '010901')).toEqual([['-1', 2, 2, 2, 0]])
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'z')" }])
    expect(cells(s, 't', '010901')).toEqual([['-1', 3, 3, 3, 0], ['a', 1, 3, 3, 1], ['b', 1, 3, 3, 2]])
    // REPLACE of a live row with a sentinel: cl + 2, columns + 1
    s.transaction([{ sql: "INSERT OR REPLACE INTO t (id, a) VALUES (1, 'r')" }])
    expect(cells(s, 't', '010901')).toEqual([['-1', 5, 4, 5, 0], ['a', 2, 4, 5, 1], ['b', 2, 4, 5, 2]])
    // pk-only tables always carry a sentinel
    s.transaction([{ sql: "INSERT INTO k VALUES ('p')" }])
    expect(cells(s, 'k', '010B0170')).toEqual([['-1', 1, 5, 1, 0]])
    s.close()
  })
  it('moves a row on primary-key change as a local write at the new version (fork fix)', () => {
    const s = store()
    s.transaction([{ sql: "INSERT INTO t (id, a, b) VALUES (1, 'one', 1)" }])
    s.transaction([{ sql: 'UPDATE t SET id = 2 WHERE id = 1' }])
    expect(cells(s, 't', '010901')).toEqual([['-1', 2, 2, 2, 0]])
    expect(cells(s, 't', '010902')).toEqual([['-1', 1, 2, 1, 1], ['a', 2, 2, 1, 2], ['b', 2, 2, 1, 3]])
    s.close()
  })
  it('treats a rowid alias set on an INTEGER PRIMARY KEY table as a key change', () => {
    for (const alias of ['rowid', '_rowid_', 'oid', 'ROWID']) {
      const s = store()
      s.transaction([{ sql: "INSERT INTO t (id, a, b) VALUES (1, 'one', 1)" }])
      s.transaction([{ sql: `UPDATE t SET ${alias} = 2 WHERE id = 1` }])
      expect(cells(s, 't', '010901'), alias).toEqual([['-1', 2, 2, 2, 0]])
      expect(cells(s, 't', '010902'), alias).toEqual([['-1', 1, 2, 1, 1], ['a', 2, 2, 1, 2], ['b', 2, 2, 1, 3]])
      s.close()
    }
  })
  it('exposes crsql_changes with every cr-sqlite column plus ts', () => {
    const s = store()
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }])
    const cur = s.read('SELECT * FROM crsql_changes')
    expect(cur.columns.map(c => c.name)).toEqual(['table', 'pk', 'cid', 'val', 'col_version', 'db_version', 'site_id', 'cl', 'seq', 'ts'])
    const [row] = [...cur.rows]
    expect(row![0]).toBe('t')
    expect(hex(row![1] as Uint8Array)).toBe('010901')
    expect(hex(row![6] as Uint8Array)).toBe(hex(s.siteId))
    expect(typeof row![9]).toBe('bigint')
    expect(changesView(s)).toHaveLength(2)
    s.close()
  })
  it('produces chunked changesets of about chunkBytes covering every seq', () => {
    const s = openStore({ path: ':memory:', chunkBytes: 1024 })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)')
    const r = s.transaction(tx => { for (let i = 0; i < 500; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v'.repeat(30)]) })
    const cs = r.changesets
    expect(cs.length).toBeGreaterThan(10)
    let next = 0
    for (const c of cs) {
      expect(c.seqs[0]).toBe(next)
      expect(c.lastSeq).toBe(999)
      next = c.seqs[1] + 1
      expect(c.changes.length).toBeLessThanOrEqual(1024 / 40)
    }
    expect(next).toBe(1000)
    expect(cs.flatMap(c => c.changes)).toHaveLength(500)
    s.close()
  })
  it('refuses writes to CRR tables outside transaction()', () => {
    const s = store()
    expect(() => s.read("INSERT INTO t (id) VALUES (9)")).toThrow(expect.objectContaining({ name: 'StatementNotReadonlyError' }))
    s.close()
  })
  it('refuses client statements naming internal tables or trigger functions', () => {
    const s = store()
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x')" }])
    for (const sql of ['DELETE FROM __patina_versions', 'UPDATE "t__crsql_clock" SET __cl = 2', "SELECT patina_sq(5, 0, 't', 1)", 'UPDATE __patina_sites SET site_id = x\'00\'']) {
      expect(() => s.transaction([{ sql }])).toThrow(expect.objectContaining({ name: 'SqlError' }))
    }
    // a string literal that merely mentions the names is fine
    expect(s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (2, '__patina_versions patina_sq(')" }]).version).toBe(2)
    expect(s.syncStatus()[0]!.head).toBe(2)
    s.close()
  })
  it('refuses a cell too big to ever replicate with TransactionTooLargeError', () => {
    const s = store()
    expect(() => s.transaction([{ sql: 'INSERT INTO t (id, a) VALUES (1, zeroblob(33 * 1024 * 1024))' }])).toThrow(expect.objectContaining({ name: 'TransactionTooLargeError', message: expect.stringContaining('t.a') }))
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'small')" }])
    expect(() => s.transaction([{ sql: 'UPDATE t SET a = zeroblob(33 * 1024 * 1024)' }])).toThrow(expect.objectContaining({ name: 'TransactionTooLargeError' }))
    expect([...s.read('SELECT a FROM t').rows]).toEqual([['small']])
    s.close()
  })
  it('accepts statements after leading comments; a statement it cannot parse gets SQLite\'s message', () => {
    const s = store()
    expect(s.transaction([{ sql: "-- name: AddT :exec\nINSERT INTO t (id, a) VALUES (1, 'c')" }, { sql: "/* two */ /* three */\n UPDATE t SET a = 'd' WHERE id = 1" }]).version).toBe(1)
    expect([...s.read('SELECT a FROM t').rows]).toEqual([['d']])
    expect(() => s.transaction([{ sql: 'INSRT INTO t VALUES (2)' }])).toThrow(/syntax error/)
    expect(() => s.transaction([{ sql: '-- sneaky\nPRAGMA writable_schema = 1' }])).toThrow(/only INSERT, UPDATE, DELETE, REPLACE and SELECT/)
    s.close()
  })
  it('binds integral numbers beyond 64 bits as REAL rather than failing', () => {
    const s = store()
    s.transaction([{ sql: 'INSERT INTO t (id, a, b) VALUES (?, ?, ?)', params: [1, 'x', 1e20] }, { sql: 'INSERT INTO t (id, b) VALUES (?, ?)', params: [2, -(2 ** 63)] }])
    expect([...s.read('SELECT typeof(b), b FROM t ORDER BY id').rows]).toEqual([['real', 1e20], ['integer', -9223372036854775808n]])
    s.close()
  })
})

import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { analyzeQuery } from '../src/subs/query-tables.ts'
import { createSubscriptionManager } from '../src/subs/subscription-manager.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'
import type { SqliteApiStore } from './support/sqlite-store.ts'

const schema = `
CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INTEGER);
CREATE INDEX t_b ON t (b);
CREATE TABLE u (x TEXT NOT NULL, y INTEGER NOT NULL, z TEXT, PRIMARY KEY (x, y)) WITHOUT ROWID;
CREATE VIEW tv AS SELECT id, a FROM t WHERE b > 0;
`

describe('query analysis with EXPLAIN', () => {
  let store: SqliteApiStore
  beforeAll(() => { store = createSqliteApiStore({ schema }) })
  afterAll(() => { store.close() })

  const cases: Array<[string, string[], boolean]> = [
    ['SELECT id, a FROM t', ['t'], true],
    ['SELECT id, a FROM t WHERE b = 1', ['t'], true],
    ['SELECT id, a FROM t WHERE a > 1 OR b = 2', ['t'], true],
    ['SELECT * FROM tv', ['t'], true],
    ['SELECT x, y, z FROM u WHERE z IS NULL', ['u'], true],
    ['SELECT * FROM t WHERE id IN (SELECT id FROM t WHERE b = 1)', ['t'], false],
    ['SELECT * FROM t WHERE EXISTS (SELECT 1 FROM t t2 WHERE t2.b = t.id)', ['t'], false],
    ['SELECT id, (SELECT count(*) FROM t) FROM t', ['t'], false],
    ['SELECT DISTINCT a FROM t', ['t'], false],
    ['SELECT id FROM t ORDER BY a LIMIT 3', ['t'], false],
    ['SELECT b, count(*) FROM t GROUP BY b', ['t'], false],
    ['SELECT count(*) FROM t', ['t'], false],
    ['SELECT t.id, u.z FROM t JOIN u ON u.y = t.id', ['t', 'u'], false],
    ['SELECT * FROM t, json_each(t.a)', ['t'], false],
    ['SELECT 1', [], false]
  ]
  for (const [sql, tables, rowLocal] of cases) {
    it(sql, () => {
      const a = analyzeQuery(store, { sql })
      expect([...a.tables].sort()).toEqual(tables)
      expect(a.rowLocal).toBe(rowLocal)
    })
  }

  it('re-reads only changed keys for row-local subscriptions, with the same events as a full run', async () => {
    const m = createSubscriptionManager({ store, batchDelayMs: 1000 })
    m.start()
    try {
      const inc = m.getOrCreate({ sql: 'SELECT id, a FROM t WHERE b > ?', params: [0] })
      const full = m.getOrCreate({ sql: 'SELECT id, a FROM t WHERE b > ? ORDER BY a', params: [0] })
      expect(inc.incremental).toBe(true)
      expect(full.incremental).toBe(false)
      await store.transaction([{ sql: "INSERT INTO t VALUES (1, 'x', 1), (2, 'y', 0), (3, 'z', 5)" }])
      await store.transaction([{ sql: "UPDATE t SET a = 'w' WHERE id = 3" }, { sql: 'UPDATE t SET b = 9 WHERE id = 2' }, { sql: 'DELETE FROM t WHERE id = 1' }])
      m.flush()
      const state = (s: typeof inc): unknown[] => s.rows.map(r => r.cells).sort()
      expect(state(inc)).toEqual([[2, 'y'], [3, 'w']])
      expect(state(inc)).toEqual(state(full))
      expect(inc.lastChangeId).toBe(2)
      // Still incremental: the keyed form ran (a failure would have switched to full runs).
      expect(inc.incremental).toBe(true)
      const odd = m.getOrCreate({ sql: 'SELECT a, id FROM t; -- a comment' })
      await store.transaction([{ sql: "UPDATE t SET a = 'v' WHERE id = 2" }])
      m.flush()
      expect(odd.incremental).toBe(true)
      expect(odd.rows.map(r => r.cells).sort()).toEqual([['v', 2], ['w', 3]])
    } finally { m.stop() }
  })
})

describe('keyed re-read statements', () => {
  it('strips trailing semicolons and comments but not comment-like text in literals', async () => {
    const { stripTail } = await import('../src/subs/incremental.ts')
    expect(stripTail('SELECT 1;  ')).toBe('SELECT 1')
    expect(stripTail('SELECT 1; -- done\n')).toBe('SELECT 1')
    expect(stripTail("SELECT 'a--b'")).toBe("SELECT 'a--b'")
    expect(stripTail("SELECT 'x' -- c")).toBe("SELECT 'x'")
    expect(stripTail('SELECT 1 -- a\n-- b\n;')).toBe('SELECT 1')
  })

  it('passes the keys as one extra parameter after positional or named ones', async () => {
    const { keyedStatement } = await import('../src/subs/incremental.ts')
    const plan = { table: 't', pkPos: [1, 0] }
    const pos = keyedStatement({ sql: 'SELECT a, b FROM t WHERE c = ?', params: [3] }, 2, plan, [[1, 'x'], [2, 'y']])
    expect(pos.params).toEqual([3, '[[1,"x"],[2,"y"]]'])
    expect(pos.sql).toContain('(c1, c0) IN (SELECT json_extract(value, \'$[0]\'), json_extract(value, \'$[1]\') FROM json_each(?))')
    const named = keyedStatement({ sql: 'SELECT a, b FROM t WHERE c = :c', params: { ':c': 3 } }, 2, plan, [[2n ** 60n, 'y'], [1, 'z']])
    expect(named.params).toEqual({ ':c': 3, ':__patina_keys': `[[${2n ** 60n},"y"],[1,"z"]]` })
    const none = keyedStatement({ sql: 'SELECT a, b FROM t' }, 2, plan, [])
    expect(none.params).toEqual({ ':__patina_keys': '[]' })
  })

  it('compares a single changed key directly, as plain parameters', async () => {
    const { keyedStatement } = await import('../src/subs/incremental.ts')
    const plan = { table: 't', pkPos: [1, 0] }
    const pos = keyedStatement({ sql: 'SELECT a, b FROM t WHERE c = ?', params: [3] }, 2, plan, [[1, 'x']])
    expect(pos.params).toEqual([3, 1, 'x'])
    expect(pos.sql).toContain('WHERE (c1, c0) = (?, ?)')
    const named = keyedStatement({ sql: 'SELECT a, b FROM t WHERE c = :c', params: { ':c': 3 } }, 2, plan, [[2n ** 60n, 'y']])
    expect(named.params).toEqual({ ':c': 3, ':__patina_k0': 2n ** 60n, ':__patina_k1': 'y' })
    expect(named.sql).toContain('WHERE (c1, c0) = (:__patina_k0, :__patina_k1)')
    const bare = keyedStatement({ sql: 'SELECT a, b FROM t' }, 2, { table: 't', pkPos: [0] }, [[5]])
    expect(bare.params).toEqual({ ':__patina_k0': 5 })
  })
})

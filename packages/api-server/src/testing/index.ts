/**
 * `apiStoreCompliance(setup)`: the behaviour every `ApiStore` implementation must have for the API
 * server to work on it. Run it from a vitest test file of the implementation:
 *
 * ```ts
 * apiStoreCompliance({ async setup (schema) { const store = … ; return { store, teardown: async () => … } } })
 * ```
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest'
import { unpackPk } from '../pk.ts'
import type { ApiStore, CommitEvent, SqlValue } from '../ports.ts'

/** One store under test and how to dispose of it. */
export interface ComplianceFixture {
  store: ApiStore
  teardown(): Promise<void>
}

/** How the suite obtains stores. */
export interface ComplianceSetup {
  /** Returns a fresh, empty store whose schema is `schema` (SQL `CREATE TABLE …` statements). */
  setup(schema: string): Promise<ComplianceFixture>
}

/** The schema every compliance test uses. */
export const complianceSchema = `
CREATE TABLE items (id INTEGER NOT NULL PRIMARY KEY, name TEXT NOT NULL DEFAULT '', price REAL, data BLOB);
CREATE TABLE pairs (a TEXT NOT NULL, b INTEGER NOT NULL, v TEXT, PRIMARY KEY (a, b));
CREATE INDEX items_name ON items (name);
`

function all (store: ApiStore, sql: string, params?: SqlValue[]): SqlValue[][] {
  const cur = store.query(params != null ? { sql, params } : { sql })
  try { return [...cur.rows] } finally { cur.close() }
}

/** Registers the compliance suite in the current vitest file. */
export function apiStoreCompliance (setup: ComplianceSetup): void {
  describe('ApiStore compliance', () => {
    let fx: ComplianceFixture
    let store: ApiStore
    let events: CommitEvent[]
    let unsub: () => void
    beforeEach(async () => {
      fx = await setup.setup(complianceSchema)
      store = fx.store
      events = []
      unsub = store.onCommit(e => { events.push(e) })
    })
    afterEach(async () => { unsub(); await fx.teardown() })

    it('commits a transaction and reports results, version and a local commit event', async () => {
      const out = await store.transaction([
        { sql: 'INSERT INTO items (id, name) VALUES (?, ?)', params: [1, 'one'] },
        { sql: 'INSERT INTO items (id, name) VALUES (?, ?)', params: [2, 'two'] },
        { sql: 'UPDATE items SET name = ? WHERE id > ?', params: ['x', 0] }
      ])
      expect(out.results.map(r => r.rowsAffected)).toEqual([1, 1, 2])
      for (const r of out.results) expect(typeof r.time).toBe('number')
      expect(typeof out.version).toBe('number')
      expect(all(store, 'SELECT id, name FROM items ORDER BY id')).toEqual([[1, 'x'], [2, 'x']])
      expect(events.length).toBe(1)
      expect(events[0]?.source).toBe('local')
      const changes = events[0]?.changes ?? []
      expect(changes.map(c => [c.table, c.pkValues]).sort()).toEqual([['items', [1]], ['items', [2]]])
      for (const c of changes) expect(unpackPk(c.pk)).toEqual(c.pkValues)
    })

    it('numbers versions upward and reports null when nothing changed', async () => {
      const a = await store.transaction([{ sql: "INSERT INTO items (id) VALUES (1)" }])
      const b = await store.transaction([{ sql: "INSERT INTO items (id) VALUES (2)" }])
      expect((b.version ?? 0) > (a.version ?? 0)).toBe(true)
      const c = await store.transaction([{ sql: 'INSERT OR IGNORE INTO items (id) VALUES (1)' }])
      expect(c.version).toBeNull()
      expect(c.results[0]?.rowsAffected).toBe(0)
    })

    it('reports update and delete kinds and composite primary keys in order', async () => {
      await store.transaction([{ sql: "INSERT INTO pairs VALUES ('k', 7, 'v')" }])
      await store.transaction([{ sql: "UPDATE pairs SET v = 'w' WHERE a = 'k'" }])
      await store.transaction([{ sql: "DELETE FROM pairs WHERE a = 'k'" }])
      expect(events.map(e => e.changes.map(c => [c.table, c.kind, c.pkValues]))).toEqual([
        [['pairs', 'insert', ['k', 7]]], [['pairs', 'update', ['k', 7]]], [['pairs', 'delete', ['k', 7]]]
      ])
    })

    it('reports a primary-key change as a delete of the old key and a write of the new one', async () => {
      await store.transaction([{ sql: "INSERT INTO items (id, name) VALUES (1, 'a')" }])
      events.length = 0
      await store.transaction([{ sql: 'UPDATE items SET id = 5 WHERE id = 1' }])
      const changes = events.flatMap(e => e.changes).map(c => [c.table, c.pkValues, c.kind])
      expect(changes).toContainEqual(['items', [1], 'delete'])
      expect(changes.find(c => JSON.stringify(c[1]) === '[5]')?.[2]).not.toBe('delete')
    })

    it('writes nothing when a statement fails, and throws', async () => {
      await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (1)' }])
      events.length = 0
      await expect(store.transaction([
        { sql: 'INSERT INTO items (id) VALUES (2)' },
        { sql: 'INSERT INTO items (id) VALUES (1)' }
      ])).rejects.toThrow()
      await expect(store.transaction([{ sql: 'INSERT INTO nope VALUES (1)' }])).rejects.toThrow()
      await expect(store.transaction([{ sql: 'NOT SQL AT ALL' }])).rejects.toThrow()
      expect(all(store, 'SELECT id FROM items')).toEqual([[1]])
      expect(events).toEqual([])
    })

    it('rejects an aborted transaction without writing', async () => {
      const ac = new AbortController()
      ac.abort()
      await expect(store.transaction([{ sql: 'INSERT INTO items (id) VALUES (1)' }], { signal: ac.signal })).rejects.toThrow()
      expect(all(store, 'SELECT count(*) FROM items')).toEqual([[0]])
    })

    it('round-trips every value type', async () => {
      const big = 2n ** 62n + 1n
      await store.transaction([{ sql: 'INSERT INTO items (id, name, price, data) VALUES (?, ?, ?, ?)', params: [big, 'héllo', 1.5, new Uint8Array([0, 1, 255])] }])
      await store.transaction([{ sql: 'INSERT INTO items (id, name, price, data) VALUES (?, ?, ?, ?)', params: [3, '', null, null] }])
      const rows = all(store, 'SELECT id, name, price, data FROM items ORDER BY id')
      expect(rows[0]).toEqual([3, '', null, null])
      expect(rows[1]?.[0]).toBe(big)
      expect(rows[1]?.[1]).toBe('héllo')
      expect(rows[1]?.[2]).toBe(1.5)
      expect(Array.from(rows[1]?.[3] as Uint8Array)).toEqual([0, 1, 255])
      expect(rows[1]?.[3]).toBeInstanceOf(Uint8Array)
    })

    it('binds integral numbers as INTEGER and others as REAL', () => {
      expect(all(store, 'SELECT typeof(?), typeof(?), typeof(?), typeof(?)', [1, 1.5, 'x', null])).toEqual([['integer', 'real', 'text', 'null']])
    })

    it('binds named parameters with or without their sigil', async () => {
      await store.transaction([{ sql: 'INSERT INTO items (id, name) VALUES (:id, :name)', params: { ':id': 1, ':name': 'a' } }])
      await store.transaction([{ sql: 'INSERT INTO items (id, name) VALUES ($id, @name)', params: { id: 2, '@name': 'b' } }])
      expect(all(store, 'SELECT id, name FROM items ORDER BY id')).toEqual([[1, 'a'], [2, 'b']])
    })

    it('returns column names and declared types', () => {
      const cur = store.query({ sql: 'SELECT id, name AS n, 1 + 1 AS two FROM items' })
      cur.close()
      expect(cur.columns.map(c => c.name)).toEqual(['id', 'n', 'two'])
      expect(cur.columns[0]?.type?.toUpperCase()).toBe('INTEGER')
      expect(cur.columns[2]?.type ?? null).toBeNull()
      // Origin columns are optional; when given they must be right.
      if (cur.columns[1]?.table != null) {
        expect([cur.columns[1].table, cur.columns[1].column]).toEqual(['items', 'name'])
        expect(cur.columns[2]?.table ?? null).toBeNull()
      }
    })

    it('refuses writes through query() with StatementNotReadonlyError and writes nothing', () => {
      for (const sql of ["INSERT INTO items (id) VALUES (9)", 'DELETE FROM items', "UPDATE items SET name = 'z'", 'DROP TABLE items']) {
        let err: unknown
        try { store.query({ sql }).close() } catch (e) { err = e }
        expect((err as Error)?.name, sql).toBe('StatementNotReadonlyError')
      }
      expect(all(store, 'SELECT count(*) FROM items')).toEqual([[0]])
      expect(store.schema().tables.map(t => t.name)).toContain('items')
    })

    it('throws a typed error for invalid SQL and keeps working', async () => {
      expect(() => store.query({ sql: 'SELEC nonsense' })).toThrow()
      expect(() => store.query({ sql: 'SELECT * FROM no_such_table' })).toThrow()
      await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (1)' }])
      expect(all(store, 'SELECT count(*) FROM items')).toEqual([[1]])
    })

    it('allows EXPLAIN and reading sqlite_schema (subscriptions find their tables this way)', () => {
      const roots = all(store, "SELECT tbl_name, rootpage FROM sqlite_schema WHERE type = 'table' AND name = 'items'")
      expect(roots.length).toBe(1)
      const plan = store.query({ sql: 'EXPLAIN SELECT * FROM items WHERE id = ?', params: [1] })
      const opcode = plan.columns.findIndex(c => c.name === 'opcode')
      const ops = [...plan.rows].map(r => r[opcode])
      plan.close()
      expect(ops).toContain('OpenRead')
    })

    it('lets a cursor be closed early, then writes again', async () => {
      for (let i = 1; i <= 20; i++) await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (?)', params: [i] }])
      const cur = store.query({ sql: 'SELECT id FROM items ORDER BY id' })
      expect(cur.rows.next().value).toEqual([1])
      cur.close()
      await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (21)' }])
      expect(all(store, 'SELECT count(*) FROM items')).toEqual([[21]])
    })

    it('describes the user schema', () => {
      const s = store.schema()
      const items = s.tables.find(t => t.name === 'items')
      const pairs = s.tables.find(t => t.name === 'pairs')
      expect(items?.columns.map(c => [c.name, c.pk])).toEqual([['id', 1], ['name', 0], ['price', 0], ['data', 0]])
      expect(items?.columns.find(c => c.name === 'name')?.notNull).toBe(true)
      expect(pairs?.columns.filter(c => c.pk > 0).map(c => [c.name, c.pk])).toEqual([['a', 1], ['b', 2]])
      expect(items?.sql).toMatch(/CREATE TABLE/i)
      expect(s.indexes.map(i => [i.name, i.table])).toContainEqual(['items_name', 'items'])
    })

    it('runs a read batch (when it offers readBatch): results pass through, reads see committed data, errors propagate', async () => {
      const rb = store.readBatch
      if (rb == null) return
      const batch = <T>(fn: () => T): T => rb.call(store, fn) as T
      await store.transaction([{ sql: 'INSERT INTO items (id, name) VALUES (1, ?)', params: ['a'] }])
      const got = batch(() => [all(store, 'SELECT name FROM items'), all(store, 'SELECT count(*) FROM items'), batch(() => all(store, 'SELECT id FROM items'))])
      expect(got).toEqual([[['a']], [[1]], [[1]]])
      expect(() => batch(() => { all(store, 'SELECT nope FROM items') })).toThrow()
      // A cursor left open when the batch ends still reads, and closing it frees the store.
      await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (2), (3)' }])
      const cur = batch(() => {
        const c = store.query({ sql: 'SELECT id FROM items ORDER BY id' })
        expect(c.rows.next().value).toEqual([1])
        return c
      })
      expect([...cur.rows]).toEqual([[2], [3]])
      cur.close()
      await store.transaction([{ sql: "UPDATE items SET name = 'b' WHERE id = 1" }])
      expect(batch(() => all(store, 'SELECT name FROM items WHERE id = 1'))).toEqual([['b']])
      expect(all(store, 'SELECT count(*) FROM items')).toEqual([[3]])
    })

    it('reads whole results (when it offers queryAll) like query, with the same checks', async () => {
      const qa = store.queryAll
      if (qa == null) return
      const queryAll = (sql: string, params?: SqlValue[]): ReturnType<typeof qa> => qa.call(store, params != null ? { sql, params } : { sql })
      await store.transaction([{ sql: 'INSERT INTO pairs VALUES (?, ?, ?), (?, ?, ?)', params: ['x', 1, 'one', 'y', 2, null] }])
      const got = queryAll('SELECT a, b, v FROM pairs WHERE b >= ? ORDER BY a', [1])
      expect(got.rows).toEqual(all(store, 'SELECT a, b, v FROM pairs WHERE b >= ? ORDER BY a', [1]))
      expect(got.columns.map(c => c.name)).toEqual(['a', 'b', 'v'])
      expect(queryAll('SELECT a FROM pairs WHERE b > 5').rows).toEqual([])
      let refused: unknown
      try { queryAll('DELETE FROM pairs') } catch (err) { refused = err }
      expect((refused as Error | undefined)?.name).toBe('StatementNotReadonlyError')
      expect(() => queryAll('SELECT nope FROM pairs')).toThrow()
      expect(all(store, 'SELECT count(*) FROM pairs')).toEqual([[2]])
    })

    it('stops notifying after unsubscribe', async () => {
      unsub()
      await store.transaction([{ sql: 'INSERT INTO items (id) VALUES (1)' }])
      expect(events).toEqual([])
      unsub = () => {}
    })
  })
}

/**
 * Details where Corrosion's documented behaviour is easy to get subtly wrong: strict body decoding,
 * the verbose statement form's field rules, the bearer scheme, and wrong JSON types at every level
 * of every route (always a 4xx JSON error, nothing written, server still up).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startHarness, post, postRaw, NdjsonReader } from './support/harness.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'
import { StatementNotReadonlyError } from '../src/errors.ts'
import type { ApiStore, Statement } from '../src/index.ts'
import { expandSql, sqlLiteral } from '../src/subs/expand-sql.ts'
import { seahash, seahashHex } from '../src/subs/seahash.ts'
import { hiddenCount, withHiddenKeys } from '../src/subs/hidden-keys.ts'
import type { Harness } from './support/harness.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);'

async function rows (h: Harness, sql: string): Promise<unknown[]> {
  const text = await (await post(h.url + '/v1/queries', sql)).text()
  return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l)).filter(e => e.row != null).map(e => e.row[1])
}

async function rawBytes (url: string, bytes: Uint8Array, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: bytes })
}

describe('Corrosion compatibility details', () => {
  let h: Harness
  beforeAll(async () => { h = await startHarness(schema) })
  afterAll(async () => { await h.close() })

  it('refuses a body that is not valid UTF-8 with 400, writing nothing', async () => {
    const prefix = Buffer.from('["INSERT INTO t VALUES (1, \'')
    const suffix = Buffer.from('\')"]')
    const body = Buffer.concat([prefix, Buffer.from([0xff, 0xfe]), suffix])
    const res = await rawBytes(h.url + '/v1/transactions', body)
    expect(res.status).toBe(400)
    expect((await res.json() as any).results[0].error).toMatch(/UTF-8/)
    const q = await rawBytes(h.url + '/v1/queries', Buffer.concat([Buffer.from('"SELECT \''), Buffer.from([0xc3]), Buffer.from('\'"')]))
    expect(q.status).toBe(400)
    expect(await rows(h, 'SELECT * FROM t')).toEqual([])
    // Valid multi-byte UTF-8 goes through unchanged.
    const ok = await post(h.url + '/v1/transactions', [['INSERT INTO t VALUES (?, ?)', [2, 'ünï €']]])
    expect(ok.status).toBe(200)
    expect(await rows(h, 'SELECT v FROM t WHERE id = 2')).toEqual([['ünï €']])
    await post(h.url + '/v1/transactions', ['DELETE FROM t'])
  })

  it('reads the verbose form as Corrosion does: unknown fields ignored, params before named_params', async () => {
    const res = await post(h.url + '/v1/transactions', [
      { query: 'INSERT INTO t VALUES (?, ?)', params: [10, 'a'], extra: true },
      { query: 'INSERT INTO t VALUES (?, ?)', params: [11, 'b'], named_params: { ':x': 1 } },
      { query: 'INSERT INTO t VALUES (:id, :v)', params: null, named_params: { ':id': 12, ':v': 'c' } }
    ])
    expect(res.status).toBe(200)
    expect(await rows(h, 'SELECT id, v FROM t WHERE id >= 10 ORDER BY id')).toEqual([[10, 'a'], [11, 'b'], [12, 'c']])
    await post(h.url + '/v1/transactions', ['DELETE FROM t'])
  })

  it('binds numbered placeholders (?1, ?2, mixed with ?) as SQLite numbers them, through any store', async () => {
    const q = async (body: unknown): Promise<unknown[]> => {
      const text = await (await post(h.url + '/v1/queries', body)).text()
      return text.split('\n').filter(l => l !== '').map(l => JSON.parse(l)).flatMap(e => e.row != null ? [e.row[1]] : e.error != null ? [e.error] : [])
    }
    expect(await q(['SELECT ?2, ?1, ?', [1, 2, 3]])).toEqual([[2, 1, 3]])
    expect(await q(['SELECT ?1, ?1 + 1', [5]])).toEqual([[5, 6]])
    expect(await q({ query: "SELECT '?1', ?1", params: ['x'] })).toEqual([['?1', 'x']])
    const w = await post(h.url + '/v1/transactions', [['INSERT INTO t (v, id) VALUES (?2, ?1)', [7, 'seven']]])
    expect(w.status).toBe(200)
    expect(await rows(h, 'SELECT id, v FROM t')).toEqual([[7, 'seven']])
    await post(h.url + '/v1/transactions', ['DELETE FROM t'])
  })

  it('reads integers as 64-bit when they fit and as REAL beyond, as serde does', async () => {
    const text = await (await postRaw(h.url + '/v1/queries', '["SELECT ?, typeof(?1), ?2, typeof(?2)", [9223372036854775807, 100000000000000000000]]')).text()
    const row = text.split('\n').filter(l => l !== '').map(l => JSON.parse(l, (_k, v, c?: { source?: string }) => typeof v === 'number' && !Number.isSafeInteger(v) && c?.source != null && /^\d+$/.test(c.source) ? c.source : v)).find(e => e.row != null).row[1]
    expect([row[0], row[1], Number(row[2]), row[3]]).toEqual(['9223372036854775807', 'integer', 1e20, 'real'])
  })

  it('answers 400 JSON for wrong JSON types at every level of every route, and stays up', async () => {
    const cases: Array<[string, unknown]> = [
      ['/v1/transactions', {}], ['/v1/transactions', 'INSERT INTO t VALUES (1, 1)'], ['/v1/transactions', [42]],
      ['/v1/transactions', [['INSERT INTO t VALUES (?, ?)', 'x']]], ['/v1/transactions', [[5, [1]]]],
      ['/v1/transactions', [{ query: ['x'] }]], ['/v1/transactions', [{ query: 'SELECT 1', params: {} }]],
      ['/v1/transactions', [{ query: 'SELECT 1', named_params: [1] }]], ['/v1/transactions', [[]]],
      ['/v1/queries', 42], ['/v1/queries', null], ['/v1/queries', ['SELECT 1', 'x']], ['/v1/queries', { params: [] }],
      ['/v1/subscriptions', 42], ['/v1/subscriptions', [{}]], ['/v1/subscriptions', { query: 7 }],
      ['/v1/table_stats', { tables: 't' }], ['/v1/table_stats', { tables: [1] }], ['/v1/table_stats', []]
    ]
    for (const [path, body] of cases) {
      const res = await post(h.url + path, body)
      expect(res.status, `${path} ${JSON.stringify(body)}`).toBe(400)
      expect(res.headers.get('content-type')).toMatch(/application\/json/)
      const json = await res.json() as any
      expect(typeof (json.error ?? json.results?.[0]?.error), `${path} ${JSON.stringify(body)}`).toBe('string')
    }
    for (const text of ['[', '{"tables":', '"SELECT 1" "x"', 'nul', '\u0000']) {
      for (const path of ['/v1/transactions', '/v1/queries', '/v1/subscriptions', '/v1/table_stats']) {
        const res = await postRaw(h.url + path, text)
        expect(res.status, `${path} ${text}`).toBe(400)
        // `/v1/transactions` answers every error as an ExecResponse, bad JSON included.
        const json = await res.json() as any
        expect(typeof (path === '/v1/transactions' ? json.results[0].error : json.error), `${path} ${text}`).toBe('string')
      }
    }
    for (const path of ['/v1/updates/%FF', '/v1/subscriptions/%ZZ']) {
      const res = await fetch(h.url + path, { method: path.startsWith('/v1/updates') ? 'POST' : 'GET' })
      expect(res.status, path).toBe(400)
      expect(Object.keys(await res.json() as any)).toEqual(['error'])
    }
    const wrongMethods: Array<[string, string, string]> = [['GET', '/v1/transactions', 'POST'], ['DELETE', '/v1/subscriptions/abc', 'GET'], ['POST', '/v1/health', 'GET'], ['PUT', '/v1/queries', 'POST']]
    for (const [method, path, allow] of wrongMethods) {
      const res = await fetch(h.url + path, { method })
      expect(res.status, `${method} ${path}`).toBe(405)
      expect(res.headers.get('allow')).toBe(allow)
      expect(typeof (await res.json() as any).error).toBe('string')
    }
    expect((await fetch(h.url + '/v1/nope')).status).toBe(404)
    expect(await rows(h, 'SELECT * FROM t')).toEqual([])
    expect((await fetch(h.url + '/v1/health')).status).toBe(200)
  })
})

describe('bearer token', () => {
  it('accepts the scheme in any case and refuses a wrong or malformed header', async () => {
    const h = await startHarness(schema, { bearerToken: 's3cret' })
    try {
      for (const auth of ['Bearer s3cret', 'bearer s3cret', 'BEARER s3cret']) {
        const res = await post(h.url + '/v1/queries', 'SELECT 1', { authorization: auth })
        expect(res.status, auth).toBe(200)
        await res.text()
      }
      for (const auth of ['Bearer s3cre', 'Bearer s3cret2', 'Basic s3cret', 's3cret', 'Bearer', 'Bearer  ']) {
        const res = await post(h.url + '/v1/queries', 'SELECT 1', { authorization: auth })
        expect(res.status, auth).toBe(401)
        await res.text()
      }
    } finally { await h.close() }
  })
})

describe('subscription identity (expanded SQL, SeaHash)', () => {
  it('computes SeaHash as published', () => {
    // The test vector from the SeaHash crate documentation.
    expect(seahash(Buffer.from('to be or not to be'))).toBe(1988685042348123509n)
    expect(seahashHex('')).toMatch(/^[0-9a-f]{16}$/)
  })

  it('expands parameters into the SQL as SQLite does, outside literals and comments', () => {
    expect(expandSql({ sql: 'SELECT * FROM t WHERE id = ? AND v = ?', params: [1, "it's"] })).toBe("SELECT * FROM t WHERE id = 1 AND v = 'it''s'")
    expect(expandSql({ sql: 'SELECT ?2, ?1, ?', params: [1, 2, 3] })).toBe('SELECT 2, 1, 3')
    expect(expandSql({ sql: "SELECT ':a', :a, @b, $c -- :a", params: { ':a': null, b: 1.5, $c: new Uint8Array([1, 255]) } }))
      .toBe("SELECT ':a', NULL, 1.5, x'01ff' -- :a")
    expect(expandSql({ sql: 'SELECT "?" FROM t', params: [1] })).toBe('SELECT "?" FROM t')
    expect(sqlLiteral(9007199254740993n)).toBe('9007199254740993')
  })

  it('shares one subscription between a parameterised statement and its literal form, hashed as Corrosion', async () => {
    const h = await startHarness(schema)
    try {
      const a = await post(h.url + '/v1/subscriptions', ['SELECT id, v FROM t WHERE id = ?', [1]])
      const b = await post(h.url + '/v1/subscriptions', 'SELECT id, v FROM t WHERE id = 1')
      const c = await post(h.url + '/v1/subscriptions', { query: 'SELECT id, v FROM t WHERE id = :id', named_params: { ':id': 1 } })
      for (const r of [a, b, c]) expect(r.status).toBe(200)
      expect(b.headers.get('corro-query-id')).toBe(a.headers.get('corro-query-id'))
      expect(c.headers.get('corro-query-id')).toBe(a.headers.get('corro-query-id'))
      expect(a.headers.get('corro-query-hash')).toBe(seahashHex('SELECT id, v FROM t WHERE id = 1'))
      expect(h.server.subscriptions.size).toBe(1)
      for (const r of [a, b, c]) await new NdjsonReader(r).cancel()
    } finally { await h.close() }
  })
})

describe('stable row ids without the primary key in the result', () => {
  it('reports Corrosion’s documented example as update, insert, delete, even in one batch', async () => {
    const h = await startHarness('CREATE TABLE sw (id INTEGER PRIMARY KEY, sandwich TEXT NOT NULL);', { subscriptions: { batchDelayMs: 1 } })
    try {
      await post(h.url + '/v1/transactions', ["INSERT INTO sw VALUES (1, 'shiitake'), (2, 'ham')"])
      const res = await post(h.url + '/v1/subscriptions', 'SELECT sandwich FROM sw')
      const rd = new NdjsonReader(res)
      expect(await rd.until(e => e.eoq != null)).toEqual([
        { columns: ['sandwich'] },
        { row: [1, ['shiitake']] },
        { row: [2, ['ham']] },
        { eoq: { time: expect.any(Number), change_id: 0 } }
      ])
      // One transaction, so one re-evaluation: identity comes from the hidden primary key.
      const w = await post(h.url + '/v1/transactions', ["UPDATE sw SET sandwich = 'smoked meat' WHERE id = 2", "INSERT INTO sw VALUES (3, 'brie')", 'DELETE FROM sw WHERE id = 1'])
      expect(w.status).toBe(200)
      expect([await rd.next(), await rd.next(), await rd.next()]).toEqual([
        { change: ['update', 2, ['smoked meat'], 1] },
        { change: ['insert', 3, ['brie'], 2] },
        { change: ['delete', 1, ['shiitake'], 3] }
      ])
      // Two rows swapping values keep their row ids.
      await post(h.url + '/v1/transactions', ["UPDATE sw SET sandwich = CASE id WHEN 2 THEN 'brie' ELSE 'smoked meat' END"])
      const swap = [await rd.next(), await rd.next()].sort((a, b) => a.change[1] - b.change[1])
      expect(swap).toEqual([{ change: ['update', 2, ['brie'], 4] }, { change: ['update', 3, ['smoked meat'], 5] }])
      const sub = h.server.subscriptions.get(res.headers.get('corro-query-id') as string)
      expect(sub.incremental).toBe(true)
      expect(sub.columns).toEqual(['sandwich'])
      expect(sub.rows).toEqual([{ rowid: 2, cells: ['brie'] }, { rowid: 3, cells: ['smoked meat'] }])
      const again = new NdjsonReader(await fetch(`${h.url}/v1/subscriptions/${sub.id}`))
      expect((await again.until(e => e.eoq != null)).slice(0, 3)).toEqual([{ columns: ['sandwich'] }, { row: [2, ['brie']] }, { row: [3, ['smoked meat']] }])
      await rd.cancel(); await again.cancel()
    } finally { await h.close() }
  })
})

describe('hidden key columns', () => {
  const schemaInfo = {
    tables: [{ name: 'kv', sql: '', columns: [
      { name: 'k', type: 'TEXT', notNull: true, pk: 1, defaultValue: null },
      { name: 'n', type: 'INTEGER', notNull: true, pk: 2, defaultValue: null },
      { name: 'v', type: 'TEXT', notNull: false, pk: 0, defaultValue: null }
    ] }],
    indexes: []
  }
  const kv = new Set(['kv'])

  it('prepends the primary key after the leading SELECT, comments and case aside', () => {
    expect(withHiddenKeys({ sql: '/* c */ select v FROM kv x WHERE x.n > ?', params: [1] }, kv, true, schemaInfo)?.statement)
      .toEqual({ sql: '/* c */ select "k" AS __patina_pk0, "n" AS __patina_pk1, v FROM kv x WHERE x.n > ?', params: [1] })
  })

  it('leaves alone what it cannot key safely', () => {
    for (const sql of ['WITH q AS (SELECT v FROM kv) SELECT v FROM q', 'SELECT DISTINCT v FROM kv', 'SELECT ALL v FROM kv', 'VALUES (1)']) {
      expect(withHiddenKeys({ sql }, kv, true, schemaInfo), sql).toBeNull()
    }
    expect(withHiddenKeys({ sql: 'SELECT v FROM kv' }, kv, false, schemaInfo)).toBeNull()
    expect(withHiddenKeys({ sql: 'SELECT 1' }, new Set(), true, schemaInfo)).toBeNull()
    expect(hiddenCount(['__patina_pk0', '__patina_pk1', 'v'])).toBe(2)
    expect(hiddenCount(['v', '__patina_pk0'])).toBe(0)
  })
})

describe('wire texts Corrosion answers verbatim', () => {
  /** A store whose not-readonly errors carry their own detail, as the agent's crdt-store's do. */
  function wordyStore (): ApiStore & { close(): void } {
    const inner = createSqliteApiStore({ schema })
    const wordy = <T>(statement: Statement, fn: () => T): T => {
      try { return fn() } catch (err) {
        if ((err as Error).name !== 'StatementNotReadonlyError') throw err
        throw new StatementNotReadonlyError(`statement could write or returns no rows: ${statement.sql}`)
      }
    }
    const { queryAll } = inner
    return {
      ...inner,
      query: (st) => wordy(st, () => inner.query(st)),
      ...(queryAll != null ? { queryAll: (st: Statement) => wordy(st, () => queryAll(st)) } : {})
    }
  }

  it('answers a write on /v1/queries and /v1/subscriptions with exactly {"error":"statement is not readonly"}, the detail only logged', async () => {
    const store = wordyStore()
    const logged: unknown[] = []
    const noop = (): void => {}
    const h = await startHarness(schema, { store, logger: { debug: (obj) => { logged.push(obj) }, info: noop, warn: noop, error: noop } })
    try {
      await post(h.url + '/v1/transactions', ["INSERT INTO t VALUES (1, 'a')"])
      for (const path of ['/v1/queries', '/v1/subscriptions']) {
        for (const sql of ["UPDATE t SET v = 'b' WHERE id = 1", 'DELETE FROM t WHERE id = 1', "INSERT INTO t VALUES (2, 'c')"]) {
          const res = await post(h.url + path, sql)
          expect(res.status, `${path} ${sql}`).toBe(400)
          expect(await res.text(), `${path} ${sql}`).toBe('{"error":"statement is not readonly"}')
        }
      }
      expect(await rows(h, 'SELECT id, v FROM t')).toEqual([[1, 'a']])
      expect(JSON.stringify(logged.map(o => String((o as { err?: Error }).err?.message)))).toContain('could write or returns no rows: DELETE FROM t')
    } finally { await h.close(); store.close() }
  })
})

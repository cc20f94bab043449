import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { startHarness, post, postRaw, NdjsonReader } from './support/harness.ts'
import type { Harness } from './support/harness.ts'

const schema = `
CREATE TABLE todos (id INTEGER PRIMARY KEY, title TEXT, done INTEGER NOT NULL DEFAULT 0, data BLOB);
CREATE TABLE kv (k TEXT NOT NULL, n INTEGER NOT NULL, v TEXT, PRIMARY KEY (k, n));
CREATE TABLE nopk (a TEXT);
`

async function lines (res: Response): Promise<any[]> {
  return (await res.text()).split('\n').filter(l => l !== '').map(l => JSON.parse(l))
}

describe('HTTP routes over a real server', () => {
  let h: Harness
  beforeAll(async () => { h = await startHarness(schema, { actorId: 'ab'.repeat(16) }) })
  afterAll(async () => { await h.close() })

  describe('POST /v1/transactions', () => {
    it('accepts every statement form and reports results, version, actor id', async () => {
      const res = await post(h.url + '/v1/transactions', [
        "INSERT INTO todos (id, title) VALUES (1, 'plain')",
        ['INSERT INTO todos (id, title) VALUES (?, ?)', [2, 'positional']],
        ['INSERT INTO todos (id, title) VALUES (:id, :t)', { ':id': 3, ':t': 'named' }],
        { query: 'INSERT INTO todos (id, title, data) VALUES (?, ?, ?)', params: [4, 'verbose', [1, 2, 255]] },
        { query: 'INSERT INTO todos (id, title) VALUES ($id, $t)', named_params: { $id: 5, $t: 'verbose named' } },
        { query: "UPDATE todos SET done = 1 WHERE id = 1" }
      ])
      expect(res.status).toBe(200)
      const body = await res.json() as any
      expect(body.results.map((r: any) => r.rows_affected)).toEqual([1, 1, 1, 1, 1, 1])
      expect(typeof body.results[0].time).toBe('number')
      expect(typeof body.time).toBe('number')
      expect(typeof body.version).toBe('number')
      expect(body.actor_id).toBe('ab'.repeat(16))
    })

    it('binds booleans as 1/0 and other JSON as text', async () => {
      const res = await post(h.url + '/v1/transactions', [['INSERT INTO kv VALUES (?, ?, ?)', ['json', true, { a: [1, 'x'] }]]])
      expect(res.status).toBe(200)
      const q = await lines(await post(h.url + '/v1/queries', ["SELECT n, v FROM kv WHERE k = 'json'"]))
      expect(q[1].row[1]).toEqual([1, '{"a":[1,"x"]}'])
    })

    it('reports version null when nothing changed', async () => {
      const res = await post(h.url + '/v1/transactions', ['INSERT OR IGNORE INTO todos (id) VALUES (1)'])
      expect(res.status).toBe(200)
      expect((await res.json() as any).version).toBeNull()
    })

    it('refuses an empty array with 400 and Corrosion’s body', async () => {
      const res = await post(h.url + '/v1/transactions', [])
      expect(res.status).toBe(400)
      const body = await res.json() as any
      expect(body.results).toEqual([{ error: 'at least 1 statement is required' }])
      expect(body.version).toBeNull()
      expect(body.actor_id).toBe('ab'.repeat(16))
    })

    it('answers 500 with one error result and writes nothing when a statement fails', async () => {
      const res = await post(h.url + '/v1/transactions', ["INSERT INTO todos (id, title) VALUES (100, 'x')", 'INSERT INTO todos (id) VALUES (1)'])
      expect(res.status).toBe(500)
      const body = await res.json() as any
      expect(body.results.length).toBe(1)
      expect(body.results[0].error).toMatch(/UNIQUE/)
      const q = await lines(await post(h.url + '/v1/queries', 'SELECT count(*) FROM todos WHERE id = 100'))
      expect(q[1].row[1]).toEqual([0])
      const bad = await post(h.url + '/v1/transactions', ['INSERT INTO no_table VALUES (1)'])
      expect(bad.status).toBe(500)
      expect((await bad.json() as any).results[0].error).toMatch(/no_table/)
    })

    it('rejects malformed bodies with 400 in the ExecResponse shape, bad JSON included', async () => {
      for (const body of ['{not json', '[["INSERT', '', '{"a":1}', '[1]', '[[1, 2]]', '[["SELECT 1", 5]]', '[{"params": []}]', '[{"query": 5}]', 'null', '"x"', '[]']) {
        const res = await postRaw(h.url + '/v1/transactions', body)
        expect(res.status, body).toBe(400)
        const j = await res.json() as any
        expect(Object.keys(j).sort(), body).toEqual(['actor_id', 'results', 'time', 'version'])
        expect(j.results.length, body).toBe(1)
        expect(typeof j.results[0].error, body).toBe('string')
        expect(j.version, body).toBeNull()
        expect(j.actor_id, body).toBe('ab'.repeat(16))
      }
      const res = await postRaw(h.url + '/v1/transactions?timeout=abc', '["SELECT 1"]')
      expect(res.status).toBe(400)
    })

    it('accepts bodies without a content type', async () => {
      const res = await fetch(h.url + '/v1/transactions', { method: 'POST', body: JSON.stringify(["INSERT INTO kv VALUES ('noct', 1, 'x')"]) })
      expect(res.status).toBe(200)
    })
  })

  describe('POST /v1/queries', () => {
    it('streams columns, rows, eoq in every statement form', async () => {
      await post(h.url + '/v1/transactions', [["INSERT INTO kv VALUES ('q', 1, 'a'), ('q', 2, 'b')"]])
      for (const st of [
        "SELECT n, v FROM kv WHERE k = 'q' ORDER BY n",
        ['SELECT n, v FROM kv WHERE k = ? ORDER BY n', ['q']],
        ['SELECT n, v FROM kv WHERE k = :k ORDER BY n', { ':k': 'q' }],
        { query: 'SELECT n, v FROM kv WHERE k = @k ORDER BY n', named_params: { '@k': 'q' } }
      ]) {
        const res = await post(h.url + '/v1/queries', st)
        expect(res.status).toBe(200)
        expect(res.headers.get('content-type')).toBe('application/x-ndjson')
        const ev = await lines(res)
        expect(ev[0]).toEqual({ columns: ['n', 'v'] })
        expect(ev[1]).toEqual({ row: [1, [1, 'a']] })
        expect(ev[2]).toEqual({ row: [2, [2, 'b']] })
        expect(typeof ev[3].eoq.time).toBe('number')
        expect(ev[3].eoq.change_id).toBeUndefined()
        expect(ev.length).toBe(4)
      }
    })

    it('encodes blobs as byte arrays, nulls, reals and big integers exactly', async () => {
      const res = await post(h.url + '/v1/queries', ["SELECT x'00ff10', NULL, 1.25, 9007199254740993, -5"])
      const text = await res.text()
      expect(text).toContain('[[0,255,16],null,1.25,9007199254740993,-5]')
      await postRaw(h.url + '/v1/transactions', '[["INSERT INTO kv VALUES (?, ?, ?)", ["big", 12345678901234567890, null]]]')
      // 12345678901234567890 overflows int64 → SQLite stores it as REAL; a value within int64 stays exact:
      await postRaw(h.url + '/v1/transactions', '[["INSERT INTO kv VALUES (?, ?, ?)", ["big2", 9223372036854775807, null]]]')
      const r2 = await (await post(h.url + '/v1/queries', ["SELECT n FROM kv WHERE k = 'big2'"])).text()
      expect(r2).toContain('[9223372036854775807]')
    })

    it('refuses writes with 400 statement is not readonly, writing nothing', async () => {
      const res = await post(h.url + '/v1/queries', "INSERT INTO kv VALUES ('ro', 1, 'x')")
      expect(res.status).toBe(400)
      expect(await res.json() as any).toEqual({ error: 'statement is not readonly' })
      const q = await lines(await post(h.url + '/v1/queries', "SELECT count(*) FROM kv WHERE k = 'ro'"))
      expect(q[1].row[1]).toEqual([0])
    })

    it('answers 400 for bad SQL, unknown tables and statement arrays', async () => {
      for (const body of ['SELEC 1', 'SELECT * FROM nope', ['SELECT ?', 'notparams'], 42]) {
        const res = await post(h.url + '/v1/queries', body)
        expect(res.status, JSON.stringify(body)).toBe(400)
        expect(typeof (await res.json() as any).error).toBe('string')
      }
    })

    it('ends with an error event when the timeout expires mid-stream', async () => {
      const res = await post(h.url + '/v1/queries?timeout=0.05', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c')
      expect(res.status).toBe(200)
      const ev = await lines(res)
      expect(ev[ev.length - 1].error).toMatch(/timed out/)
    })
  })

  describe('POST /v1/table_stats', () => {
    it('counts rows and lists invalid tables', async () => {
      const q = await lines(await post(h.url + '/v1/queries', 'SELECT (SELECT count(*) FROM todos) + (SELECT count(*) FROM kv)'))
      const res = await post(h.url + '/v1/table_stats', { tables: ['todos', 'kv', 'nope'] })
      expect(res.status).toBe(200)
      expect(await res.json() as any).toEqual({ total_row_count: q[1].row[1][0], invalid_tables: ['nope'] })
      expect((await post(h.url + '/v1/table_stats', { tables: 'todos' })).status).toBe(400)
    })
  })

  describe('GET /v1/health, /v1/cluster/members, /v1/schema', () => {
    it('reports health of a single node', async () => {
      const res = await fetch(h.url + '/v1/health')
      expect(res.status).toBe(200)
      expect(await res.json() as any).toEqual({ response: { gaps: 0, members: 0, p99_lag: 0, queue_size: 0 } })
      expect((await fetch(h.url + '/v1/health?gaps=x')).status).toBe(400)
    })

    it('lists no members without a cluster and describes the schema', async () => {
      expect(await (await fetch(h.url + '/v1/cluster/members')).json() as any).toEqual({ members: [] })
      const s = await (await fetch(h.url + '/v1/schema')).json() as any
      const kv = s.tables.find((t: any) => t.name === 'kv')
      expect(kv.columns.map((c: any) => [c.name, c.pk])).toEqual([['k', 1], ['n', 2], ['v', 0]])
    })
  })

  describe('POST /v1/updates/:table', () => {
    it('streams notify events for inserts, updates and deletes, local and remote', async () => {
      const res = await post(h.url + '/v1/updates/kv', undefined)
      expect(res.status).toBe(200)
      expect(res.headers.get('corro-query-id')).toMatch(/^[0-9a-f-]{36}$/)
      const rd = new NdjsonReader(res)
      await post(h.url + '/v1/transactions', ["INSERT INTO kv VALUES ('u', 1, 'a')"])
      expect(await rd.next()).toEqual({ notify: ['update', ['u', 1]] })
      await post(h.url + '/v1/transactions', ["UPDATE kv SET v = 'b' WHERE k = 'u'"])
      expect(await rd.next()).toEqual({ notify: ['update', ['u', 1]] })
      await h.store.applyRemote([{ sql: "DELETE FROM kv WHERE k = 'u'" }])
      expect(await rd.next()).toEqual({ notify: ['delete', ['u', 1]] })
      await rd.cancel()
    })

    it('shares one handle id between clients of a table', async () => {
      const a = await post(h.url + '/v1/updates/todos', undefined)
      const b = await post(h.url + '/v1/updates/todos', undefined)
      expect(a.headers.get('corro-query-id')).toBe(b.headers.get('corro-query-id'))
      const ra = new NdjsonReader(a); const rb = new NdjsonReader(b)
      await post(h.url + '/v1/transactions', ["INSERT INTO todos (id, title) VALUES (500, 'n')"])
      expect(await ra.next()).toEqual({ notify: ['update', [500]] })
      expect(await rb.next()).toEqual({ notify: ['update', [500]] })
      await ra.cancel(); await rb.cancel()
    })

    it('ignores a body, whatever it is, as Corrosion does', async () => {
      for (const body of ['garbage', '{"x":', '[1,2]']) {
        const res = await fetch(h.url + '/v1/updates/kv', { method: 'POST', body, headers: { 'content-type': 'application/json' } })
        expect(res.status, body).toBe(200)
        await res.body?.cancel()
      }
    })

    it('refuses unknown tables and tables without a primary key', async () => {
      expect((await post(h.url + '/v1/updates/nope', undefined)).status).toBe(400)
      expect((await post(h.url + '/v1/updates/nopk', undefined)).status).toBe(400)
    })
  })

  it('answers 404 JSON for unknown routes and unknown subscriptions', async () => {
    const a = await fetch(h.url + '/v1/nothing')
    expect(a.status).toBe(404)
    const b = await fetch(h.url + '/v1/subscriptions/00000000-0000-0000-0000-000000000000')
    expect(b.status).toBe(404)
    expect(b.headers.get('content-type')).toMatch(/application\/json/)
    expect((await b.json() as any).error).toBe('could not find subscription with id 00000000-0000-0000-0000-000000000000')
  })
})

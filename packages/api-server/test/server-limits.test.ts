import { describe, it, expect } from 'vitest'
import { request } from 'node:http'
import { startHarness, post, postRaw, NdjsonReader, waitFor } from './support/harness.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'
import type { ApiStore } from '../src/index.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);'

describe('auth, limits and load shedding', () => {
  it('requires the bearer token on every route when configured', async () => {
    const h = await startHarness(schema, { bearerToken: 's3cret' })
    try {
      for (const [method, path] of [['GET', '/v1/health'], ['POST', '/v1/queries'], ['POST', '/v1/transactions'], ['GET', '/v1/schema']] as const) {
        const res = await fetch(h.url + path, { method, ...(method === 'POST' ? { body: '"SELECT 1"' } : {}) })
        expect(res.status, path).toBe(401)
        expect(typeof (await res.json() as any).error).toBe('string')
      }
      const wrong = await post(h.url + '/v1/queries', 'SELECT 1', { authorization: 'Bearer nope' })
      expect(wrong.status).toBe(401)
      const ok = await post(h.url + '/v1/queries', 'SELECT 1', { authorization: 'Bearer s3cret' })
      expect(ok.status).toBe(200)
      await ok.text()
    } finally { await h.close() }
  })

  it('answers 421 when the requested endpoint name differs', async () => {
    const h = await startHarness(schema, { endpointName: 'east' })
    try {
      expect((await fetch(h.url + '/v1/health', { headers: { 'x-corrosion-requested-endpoint-name': 'west' } })).status).toBe(421)
      expect((await fetch(h.url + '/v1/health', { headers: { 'x-corrosion-requested-endpoint-name': 'east' } })).status).toBe(200)
      expect((await fetch(h.url + '/v1/health')).status).toBe(200)
    } finally { await h.close() }
  })

  it('answers 413 for a body over the limit and keeps serving', async () => {
    const h = await startHarness(schema, { bodyLimit: 1024 })
    try {
      const res = await postRaw(h.url + '/v1/transactions', JSON.stringify([['INSERT INTO t VALUES (1, ?)', ['x'.repeat(5000)]]]))
      expect(res.status).toBe(413)
      expect((await res.json() as any).results[0].error).toMatch(/larger than 1024/)
      const ok = await post(h.url + '/v1/transactions', ["INSERT INTO t VALUES (1, 'x')"])
      expect(ok.status).toBe(200)
    } finally { await h.close() }
  })

  it('sheds load with 503 past the per-route concurrency limit', async () => {
    const real = createSqliteApiStore({ schema })
    let release!: () => void
    const gate = new Promise<void>(resolve => { release = resolve })
    let waiting = 0
    // The real store, with transactions held at a gate so requests pile up in flight.
    const store: ApiStore = {
      query: s => real.query(s),
      onCommit: l => real.onCommit(l),
      schema: () => real.schema(),
      async transaction (s, o) { waiting++; await gate; return real.transaction(s, o) }
    }
    const h = await startHarness(schema, { concurrency: { default: 2, light: 1 } }, store as never)
    try {
      const held = [1, 2].map(i => post(h.url + '/v1/transactions', [`INSERT INTO t VALUES (${i}, 'x')`]))
      await waitFor(() => waiting === 2, 5000, 'two transactions in flight')
      const shed = await post(h.url + '/v1/transactions', ["INSERT INTO t VALUES (3, 'x')"])
      expect(shed.status).toBe(503)
      expect(await shed.text()).toBe('max concurrency limit reached')
      // Other routes have their own limits.
      const q = await post(h.url + '/v1/queries', 'SELECT 1')
      expect(q.status).toBe(200)
      await q.text()
      release()
      for (const r of await Promise.all(held)) expect(r.status).toBe(200)
      const after = await post(h.url + '/v1/transactions', ["INSERT INTO t VALUES (3, 'x')"])
      expect(after.status).toBe(200)
    } finally { await h.close(); real.close() }
  })

  it('releases the read cursor of a query whose client stops reading once the timeout passes', async () => {
    const real = createSqliteApiStore({ schema })
    let open = 0
    const store: ApiStore = {
      transaction: (s, o) => real.transaction(s, o),
      onCommit: l => real.onCommit(l),
      schema: () => real.schema(),
      query (s) {
        const cur = real.query(s)
        open++
        let closed = false
        return { columns: cur.columns, rows: cur.rows, close () { if (!closed) { closed = true; open-- } cur.close() } }
      }
    }
    const h = await startHarness(schema, {}, store as never)
    try {
      const { port } = h.server.address!
      const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/queries?timeout=0.2', headers: { 'content-type': 'application/json' } }, resolve)
        req.on('error', reject)
        req.end(JSON.stringify("WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x, printf('%.1000c', 'x') FROM c"))
      })
      res.pause()
      res.on('error', () => {})
      expect(open).toBe(1)
      await waitFor(() => open === 0, 10_000, 'cursor released')
      res.destroy()
    } finally { await h.close(); real.close() }
  })

  it('stays up through a barrage of hostile requests', async () => {
    const h = await startHarness(schema)
    try {
      const bodies = ['', '{', '[', '[[[[[[', '{"query": 1}', '\u0000\u0001', '[null]', '[true]', '[{"query":"SELECT 1","params":{}}]', '[["SELECT ?", [[1, "a"]]]]', '"' + 'x'.repeat(100_000) + '"']
      for (const path of ['/v1/transactions', '/v1/queries', '/v1/subscriptions', '/v1/table_stats', '/v1/updates/t', '/v1/updates/%00']) {
        for (const b of bodies) {
          const res = await postRaw(h.url + path, b)
          expect(res.status, `${path} ${b.slice(0, 20)}`).toBeLessThan(600)
          await res.body?.cancel()
        }
      }
      const ok = await post(h.url + '/v1/queries', 'SELECT 1')
      expect(ok.status).toBe(200)
      await ok.text()
    } finally { await h.close() }
  })

  it('disconnects a subscriber that stops reading, with an error event, without unbounded buffering', async () => {
    const h = await startHarness(schema, { subscriptions: { maxBufferedBytes: 64 * 1024, batchDelayMs: 1 } })
    try {
      await post(h.url + '/v1/transactions', ["INSERT INTO t VALUES (1, 'x')"])
      const { port } = h.server.address!
      // A raw client that reads the head and then stops reading.
      const res = await new Promise<import('node:http').IncomingMessage>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/subscriptions', headers: { 'content-type': 'application/json' } }, resolve)
        req.on('error', reject)
        req.end(JSON.stringify('SELECT id, v FROM t'))
      })
      res.pause()
      const id = res.headers['corro-query-id'] as string
      const sub = h.server.subscriptions.get(id)
      expect(sub.listenerCount).toBe(1)
      const big = 'y'.repeat(200_000)
      for (let i = 0; i < 200 && sub.listenerCount > 0; i++) {
        await post(h.url + '/v1/transactions', [['UPDATE t SET v = ? WHERE id = 1', [big + i]]])
        await waitFor(() => sub.lastChangeId >= i + 1, 5000, 'change applied')
      }
      expect(sub.listenerCount).toBe(0)
      // Reading now drains what was buffered, ending with the error event.
      res.resume()
      let text = ''
      res.setEncoding('utf8')
      for await (const chunk of res) text += chunk as string
      const last = text.trim().split('\n').pop() ?? ''
      expect(JSON.parse(last).error).toMatch(/too slow/)
    } finally { await h.close() }
  })
})

import { describe, it, expect } from 'vitest'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startHarness, post, NdjsonReader, waitFor } from './support/harness.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'

const schema = `
CREATE TABLE sandwiches (id INTEGER PRIMARY KEY, name TEXT NOT NULL, price INTEGER);
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);
`
const fast = { subscriptions: { batchDelayMs: 2 } }

async function write (url: string, ...sql: unknown[]): Promise<void> {
  const res = await post(url + '/v1/transactions', sql)
  if (res.status !== 200) throw new Error(`write failed: ${await res.text()}`)
}

describe('subscriptions', () => {
  it('streams initial rows, eoq with change_id 0, then contiguous change events with stable row ids', async () => {
    const h = await startHarness(schema, fast)
    try {
      await write(h.url, "INSERT INTO sandwiches VALUES (1, 'shiitake', 5), (2, 'ham', 4)")
      const res = await post(h.url + '/v1/subscriptions', 'SELECT name FROM sandwiches ORDER BY id')
      expect(res.status).toBe(200)
      expect(res.headers.get('corro-query-id')).toMatch(/^[0-9a-f-]{36}$/)
      expect(res.headers.get('corro-query-hash')).toMatch(/^[0-9a-f]{16}$/)
      const rd = new NdjsonReader(res)
      expect(await rd.next()).toEqual({ columns: ['name'] })
      expect(await rd.next()).toEqual({ row: [1, ['shiitake']] })
      expect(await rd.next()).toEqual({ row: [2, ['ham']] })
      const eoq = await rd.next()
      expect(eoq.eoq.change_id).toBe(0)
      expect(typeof eoq.eoq.time).toBe('number')
      await write(h.url, "INSERT INTO sandwiches VALUES (3, 'brie', 6)")
      expect(await rd.next()).toEqual({ change: ['insert', 3, ['brie'], 1] })
      await write(h.url, 'DELETE FROM sandwiches WHERE id = 1')
      expect(await rd.next()).toEqual({ change: ['delete', 1, ['shiitake'], 2] })
      await rd.cancel()
    } finally { await h.close() }
  })

  it('reports an update on the same row id when the primary key is in the result', async () => {
    const h = await startHarness(schema, fast)
    try {
      await write(h.url, "INSERT INTO sandwiches VALUES (1, 'ham', 4)")
      const rd = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT id, name FROM sandwiches'))
      await rd.until(e => e.eoq != null)
      await write(h.url, "UPDATE sandwiches SET name = 'smoked meat' WHERE id = 1")
      expect(await rd.next()).toEqual({ change: ['update', 1, [1, 'smoked meat'], 1] })
      // Aggregates keyed by their group column also give updates.
      const agg = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT name, count(*) FROM sandwiches GROUP BY name'))
      const init = await agg.until(e => e.eoq != null)
      expect(init[1]).toEqual({ row: [1, ['smoked meat', 1]] })
      await write(h.url, "INSERT INTO sandwiches VALUES (2, 'smoked meat', 3)")
      expect(await agg.next()).toEqual({ change: ['update', 1, ['smoked meat', 2], 1] })
      await rd.cancel(); await agg.cancel()
    } finally { await h.close() }
  })

  it('shares one subscription between identical statements and serves GET by id', async () => {
    const h = await startHarness(schema, fast)
    try {
      await write(h.url, "INSERT INTO sandwiches VALUES (1, 'ham', 4)")
      const a = await post(h.url + '/v1/subscriptions', ['SELECT name FROM sandwiches WHERE price > ?', [1]])
      const b = await post(h.url + '/v1/subscriptions', ['SELECT name FROM sandwiches WHERE price > ?', [1]])
      const c = await post(h.url + '/v1/subscriptions', ['SELECT name FROM sandwiches WHERE price > ?', [2]])
      const id = a.headers.get('corro-query-id')
      expect(b.headers.get('corro-query-id')).toBe(id)
      expect(c.headers.get('corro-query-id')).not.toBe(id)
      expect(h.server.subscriptions.size).toBe(2)
      const ra = new NdjsonReader(a); const rb = new NdjsonReader(b)
      await ra.until(e => e.eoq != null); await rb.until(e => e.eoq != null)
      await write(h.url, "INSERT INTO sandwiches VALUES (2, 'brie', 6)")
      expect(await ra.next()).toEqual({ change: ['insert', 2, ['brie'], 1] })
      expect(await rb.next()).toEqual({ change: ['insert', 2, ['brie'], 1] })
      // Attaching later replays the current rows with eoq at the latest change id.
      const g = new NdjsonReader(await fetch(`${h.url}/v1/subscriptions/${id}`))
      const ev = await g.until(e => e.eoq != null)
      expect(ev.slice(0, 3)).toEqual([{ columns: ['name'] }, { row: [1, ['ham']] }, { row: [2, ['brie']] }])
      expect(ev[3].eoq.change_id).toBe(1)
      // skip_rows sends only changes.
      const s = new NdjsonReader(await fetch(`${h.url}/v1/subscriptions/${id}?skip_rows=true`))
      await write(h.url, "UPDATE sandwiches SET price = 0 WHERE id = 1")
      expect(await s.next()).toEqual({ change: ['delete', 1, ['ham'], 2] })
      for (const r of [ra, rb, g, s]) await r.cancel()
      await c.body?.cancel()
    } finally { await h.close() }
  })

  it('resumes from a change id and errors when it is older than the retained window', async () => {
    const h = await startHarness(schema, { subscriptions: { batchDelayMs: 1, retainChanges: 3 } })
    try {
      const res = await post(h.url + '/v1/subscriptions', 'SELECT id, name FROM sandwiches')
      const id = res.headers.get('corro-query-id') as string
      const rd = new NdjsonReader(res)
      await rd.until(e => e.eoq != null)
      for (let i = 1; i <= 5; i++) {
        await write(h.url, ['INSERT INTO sandwiches VALUES (?, ?, 1)', [i, `s${i}`]])
        await rd.until(e => e.change?.[3] === i)
      }
      const resumed = new NdjsonReader(await fetch(`${h.url}/v1/subscriptions/${id}?from=3`))
      expect(await resumed.next()).toEqual({ change: ['insert', 4, [4, 's4'], 4] })
      expect(await resumed.next()).toEqual({ change: ['insert', 5, [5, 's5'], 5] })
      const viaPost = new NdjsonReader(await post(h.url + '/v1/subscriptions?from=4', 'SELECT id, name FROM sandwiches'))
      expect(await viaPost.next()).toEqual({ change: ['insert', 5, [5, 's5'], 5] })
      const old = new NdjsonReader(await fetch(`${h.url}/v1/subscriptions/${id}?from=1`))
      expect(await old.next()).toEqual({ error: 'subscription already deleted older changes, min change id: 3' })
      expect(await old.next()).toBeNull()
      // Any `from` on create is refused, `from=0` included (Corrosion: `params.from.is_some()`).
      for (const from of [2, 0]) {
        const none = await post(h.url + `/v1/subscriptions?from=${from}`, 'SELECT name FROM users')
        expect(none.status, `from=${from}`).toBe(400)
        expect(await none.json() as any).toEqual({ error: 'a `from` query param was supplied, but no existing subscription found' })
      }
      // Attaching with from=0 replays the rows, as without `from`.
      const attached = new NdjsonReader(await post(h.url + '/v1/subscriptions?from=0', 'SELECT id, name FROM sandwiches'))
      expect(await attached.next()).toEqual({ columns: ['id', 'name'] })
      await attached.cancel()
      for (const r of [rd, resumed, viaPost]) await r.cancel()
    } finally { await h.close() }
  })

  it('refuses writes, bad SQL and bad parameters with 400', async () => {
    const h = await startHarness(schema, fast)
    try {
      const w = await post(h.url + '/v1/subscriptions', "INSERT INTO users VALUES (1, 'x')")
      expect(w.status).toBe(400)
      expect(await w.json() as any).toEqual({ error: 'statement is not readonly' })
      expect((await post(h.url + '/v1/subscriptions', 'SELECT nope FROM users')).status).toBe(400)
      expect((await post(h.url + '/v1/subscriptions', ['SELECT 1'])).status).toBe(200)
      expect((await post(h.url + '/v1/subscriptions?skip_rows=maybe', 'SELECT 1')).status).toBe(400)
      const q = await post(h.url + '/v1/queries', 'SELECT count(*) FROM users')
      expect(await q.text()).toContain('"row":[1,[0]]')
    } finally { await h.close() }
  })

  it('refuses subscriptions whose result is unbounded, and keeps serving', async () => {
    const h = await startHarness(schema, { subscriptions: { batchDelayMs: 1, maxRows: 1000, queryTimeoutMs: 2000 } })
    try {
      const inf = await post(h.url + '/v1/subscriptions', 'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT x FROM c')
      expect(inf.status).toBe(400)
      expect((await inf.json() as any).error).toMatch(/exceeds 1000 rows/)
      expect(h.server.subscriptions.size).toBe(0)
      const ok = await post(h.url + '/v1/queries', 'SELECT 1')
      expect(ok.status).toBe(200)
      await ok.text()
    } finally { await h.close() }
  })

  it('notifies changes merged from peers exactly like local ones', async () => {
    const h = await startHarness(schema, fast)
    try {
      const rd = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id'))
      await rd.until(e => e.eoq != null)
      await h.store.applyRemote([{ sql: "INSERT INTO users VALUES (1, 'ann')" }, { sql: 'INSERT INTO orders VALUES (10, 1, 99)' }])
      expect(await rd.next()).toEqual({ change: ['insert', 1, ['ann', 99], 1] })
      await rd.cancel()
    } finally { await h.close() }
  })

  it('tracks tables read only in subqueries and LEFT JOIN null-side transitions', async () => {
    const h = await startHarness(schema, fast)
    try {
      await write(h.url, "INSERT INTO users VALUES (1, 'ann'), (2, 'bob')")
      const exists = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id)'))
      const left = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT u.id, u.name, o.id FROM users u LEFT JOIN orders o ON o.user_id = u.id'))
      const scalar = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT (SELECT count(*) FROM orders) AS n'))
      expect((await exists.until(e => e.eoq != null)).length).toBe(2)
      const leftInit = await left.until(e => e.eoq != null)
      expect(leftInit.slice(1, 3)).toEqual([{ row: [1, [1, 'ann', null]] }, { row: [2, [2, 'bob', null]] }])
      await scalar.until(e => e.eoq != null)
      await write(h.url, 'INSERT INTO orders VALUES (10, 2, 5)')
      expect(await exists.next()).toEqual({ change: ['insert', 1, ['bob'], 1] })
      const leftRows = new Map<number, unknown[]>([[1, [1, 'ann', null]], [2, [2, 'bob', null]]])
      const applyLeft = (e: any): void => { if (e.change[0] === 'delete') leftRows.delete(e.change[1]); else leftRows.set(e.change[1], e.change[2]) }
      // The null-side row is replaced (the orders key changed from null to 10).
      for (const e of await left.until(e => e.change?.[3] === 2)) applyLeft(e)
      expect([...leftRows.values()].sort()).toEqual([[1, 'ann', null], [2, 'bob', 10]])
      expect(await scalar.next()).toEqual({ change: ['update', 1, [1], 1] })
      await write(h.url, 'DELETE FROM orders')
      expect(await exists.next()).toEqual({ change: ['delete', 1, ['bob'], 2] })
      for (const e of await left.until(e => e.change?.[3] === 4)) applyLeft(e)
      expect([...leftRows.values()].sort()).toEqual([[1, 'ann', null], [2, 'bob', null]])
      for (const r of [exists, left, scalar]) await r.cancel()
    } finally { await h.close() }
  })

  it('survives a restart when given a data directory, emitting what changed while down', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-subs-'))
    const store = createSqliteApiStore({ schema })
    try {
      const h1 = await startHarness(schema, { ...fast, dataDir: dir }, store)
      const res = await post(h1.url + '/v1/subscriptions', 'SELECT id, name FROM users')
      const id = res.headers.get('corro-query-id') as string
      const rd = new NdjsonReader(res)
      await rd.until(e => e.eoq != null)
      await write(h1.url, "INSERT INTO users VALUES (1, 'ann')")
      expect(await rd.next()).toEqual({ change: ['insert', 1, [1, 'ann'], 1] })
      await h1.close()
      // Written while no server runs.
      await store.transaction([{ sql: "INSERT INTO users VALUES (2, 'bob')" }])
      const h2 = await startHarness(schema, { ...fast, dataDir: dir }, store)
      try {
        const again = new NdjsonReader(await fetch(`${h2.url}/v1/subscriptions/${id}?from=1`))
        expect(await again.next()).toEqual({ change: ['insert', 2, [2, 'bob'], 2] })
        await write(h2.url, "UPDATE users SET name = 'ann2' WHERE id = 1")
        expect(await again.next()).toEqual({ change: ['update', 1, [1, 'ann2'], 3] })
        const full = new NdjsonReader(await fetch(`${h2.url}/v1/subscriptions/${id}`))
        const ev = await full.until(e => e.eoq != null)
        expect(ev.slice(1, 3)).toEqual([{ row: [1, [1, 'ann2']] }, { row: [2, [2, 'bob']] }])
        expect(ev[3].eoq.change_id).toBe(3)
        await again.cancel(); await full.cancel()
      } finally { await h2.close() }
    } finally { store.close(); rmSync(dir, { recursive: true, force: true }) }
  })

  it('removes subscriptions that stay without clients past the idle timeout, on disk too', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-subs-idle-'))
    const store = createSqliteApiStore({ schema })
    try {
      const h = await startHarness(schema, { dataDir: dir, subscriptions: { batchDelayMs: 1, idleTimeoutMs: 200 } }, store)
      const res = await post(h.url + '/v1/subscriptions', 'SELECT name FROM users')
      const id = res.headers.get('corro-query-id') as string
      const kept = await post(h.url + '/v1/subscriptions', 'SELECT id FROM users')
      const rd = new NdjsonReader(res)
      const rk = new NdjsonReader(kept)
      await rd.until(e => e.eoq != null)
      await rk.until(e => e.eoq != null)
      await rd.cancel()
      await waitFor(() => h.server.subscriptions.size === 1, 10_000, 'idle subscription removal')
      expect((await fetch(`${h.url}/v1/subscriptions/${id}`)).status).toBe(404)
      await rk.cancel()
      await h.close()
      const h2 = await startHarness(schema, { dataDir: dir, subscriptions: { batchDelayMs: 1, idleTimeoutMs: 60_000 } }, store)
      try {
        expect(h2.server.subscriptions.size).toBe(1)
        expect(h2.server.subscriptions.ids()).not.toContain(id)
      } finally { await h2.close() }
    } finally { store.close(); rmSync(dir, { recursive: true, force: true }) }
  })
})

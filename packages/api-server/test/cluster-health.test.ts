import { describe, it, expect } from 'vitest'
import { startHarness, post, NdjsonReader } from './support/harness.ts'
import { createApiServer } from '../src/index.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'
import type { ApiCluster, HealthFigures } from '../src/index.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT);'

describe('cluster routes and lifecycle', () => {
  it('judges health from the cluster figures and the query thresholds', async () => {
    let figures: HealthFigures = { gaps: 3, members: 4, p99Lag: 0.5, queueSize: 10 }
    const cluster: ApiCluster = {
      members: () => [
        { id: 'aa'.repeat(16), addr: '127.0.0.1:4001', state: 'alive', rttMs: 1.5, incarnation: 2 },
        { id: 'bb'.repeat(16), addr: '127.0.0.1:4002', state: 'suspect' }
      ],
      health: () => figures
    }
    const h = await startHarness(schema, { cluster })
    try {
      const get = async (q: string): Promise<[number, any]> => { const r = await fetch(h.url + '/v1/health' + q); return [r.status, await r.json()] }
      expect(await get('')).toEqual([200, { response: { gaps: 3, members: 4, p99_lag: 0.5, queue_size: 10 } }])
      expect((await get('?gaps=2'))[0]).toBe(503)
      expect((await get('?gaps=3'))[0]).toBe(200)
      expect((await get('?max_queue=5'))[0]).toBe(503)
      expect((await get('?max_queue=5&failure_status=500'))[0]).toBe(500)
      expect((await get('?p99_lag=0.1'))[0]).toBe(503)
      // High lag only counts when the queue is also above queue_size.
      expect((await get('?p99_lag=0.1&queue_size=20'))[0]).toBe(200)
      expect((await get('?p99_lag=0.1&queue_size=5'))[0]).toBe(503)
      // A status Corrosion cannot use falls back to 503.
      expect((await get('?gaps=2&failure_status=99'))[0]).toBe(503)
      // No lag sample yet: Corrosion's failure status and exact error body.
      figures = { gaps: 0, members: 1, p99Lag: null, queueSize: 0 }
      expect(await get('')).toEqual([503, { error: 'no p99 lag information available' }])
      expect(await get('?failure_status=500')).toEqual([500, { error: 'no p99 lag information available' }])
      const m = await (await fetch(h.url + '/v1/cluster/members')).json() as any
      expect(m).toEqual({
        members: [
          { id: 'aa'.repeat(16), addr: '127.0.0.1:4001', state: 'alive', rtt_ms: 1.5, incarnation: 2 },
          { id: 'bb'.repeat(16), addr: '127.0.0.1:4002', state: 'suspect' }
        ]
      })
    } finally { await h.close() }
  })

  it('stops promptly with open streams, ending them', async () => {
    const h = await startHarness(schema)
    const sub = new NdjsonReader(await post(h.url + '/v1/subscriptions', 'SELECT id FROM t'))
    await sub.until(e => e.eoq != null)
    const upd = new NdjsonReader(await post(h.url + '/v1/updates/t', undefined))
    const t0 = Date.now()
    await h.close()
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(await sub.next().catch(() => null)).toBeNull()
    expect(await upd.next().catch(() => null)).toBeNull()
    expect(h.server.address).toBeNull()
  })

  it('serves several listen addresses from one set of subscriptions', async () => {
    const store = createSqliteApiStore({ schema })
    const server = createApiServer({ store, addr: ['127.0.0.1:0', '127.0.0.1:0'], subscriptions: { batchDelayMs: 1 } })
    try {
      await server.start()
      const [a, b] = server.addresses.map(x => `http://${x.host}:${x.port}`)
      expect(server.addresses.length).toBe(2)
      const res = await post(a + '/v1/subscriptions', 'SELECT id, v FROM t')
      const id = res.headers.get('corro-query-id')
      const rd = new NdjsonReader(res)
      await rd.until(e => e.eoq != null)
      const again = await post(b + '/v1/subscriptions', 'SELECT id, v FROM t')
      expect(again.headers.get('corro-query-id')).toBe(id)
      await again.body?.cancel()
      expect((await post(b + '/v1/transactions', ["INSERT INTO t VALUES (1, 'x')"])).status).toBe(200)
      expect(await rd.next()).toEqual({ change: ['insert', 1, [1, 'x'], 1] })
      await rd.cancel()
    } finally { await server.stop(); store.close() }
  })

  it('reports every request to the metrics hook', async () => {
    const seen: Array<{ route: string, status: number }> = []
    const h = await startHarness(schema, { onRequest: i => { seen.push({ route: i.route, status: i.status }) } })
    try {
      await (await fetch(h.url + '/v1/health')).text()
      await (await post(h.url + '/v1/queries', 'SELEC')).text()
      expect(seen).toEqual([{ route: '/v1/health', status: 200 }, { route: '/v1/queries', status: 400 }])
    } finally { await h.close() }
  })
})

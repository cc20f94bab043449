import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Agent } from '../src/agent.ts'
import { startAgents, post } from './support/in-process.ts'
import { events } from './support/ndjson.ts'

const SCHEMA = `CREATE TABLE users (id INTEGER NOT NULL PRIMARY KEY, name TEXT);
CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, pad TEXT);
`

describe('a query response still streaming does not hide later commits', () => {
  let agent: Agent
  let close: () => Promise<void> = async () => {}
  beforeAll(async () => {
    const started = await startAgents(1, SCHEMA)
    agent = started.agents[0]!
    close = started.close
    // about 4 MB: far more than one write of the response
    const fill = await post(agent, '/v1/transactions', [["INSERT INTO big (id, pad) WITH RECURSIVE c(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 20000) SELECT n, printf('%.200c', 'x') FROM c"]])
    expect(fill.status).toBe(200)
  }, 60_000)
  afterAll(async () => { await close() })

  it('subscriptions and new queries see a write made while a slow client holds a large result open', async () => {
    const subAbort = new AbortController()
    const sub = await post(agent, '/v1/subscriptions', 'SELECT id, name FROM users', subAbort.signal)
    expect(sub.status).toBe(200)
    const next = events(sub)
    await next(e => e.eoq !== undefined)

    const slowAbort = new AbortController()
    const slow = await post(agent, '/v1/queries', 'SELECT id, pad FROM big', slowAbort.signal)
    const slowReader = slow.body!.getReader()
    expect((await slowReader.read()).done).toBe(false)
    try {
      const w = await post(agent, '/v1/transactions', [["INSERT INTO users VALUES (1, 'during')"]])
      expect(w.status).toBe(200)
      // the subscription reports the row while the slow response is still open
      const change = await next(e => e.change !== undefined)
      expect((change.change as unknown[])[0]).toBe('insert')
      expect((change.change as unknown[])[2]).toEqual([1, 'during'])
      // and a query made after the write sees it
      const q = await post(agent, '/v1/queries', 'SELECT name FROM users WHERE id = 1')
      const rows = (await q.text()).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).filter(l => l.row !== undefined)
      expect(rows.map(r => (r.row as [number, unknown[]])[1])).toEqual([['during']])
    } finally {
      slowAbort.abort()
      await slowReader.cancel().catch(() => {})
      subAbort.abort()
    }
  })
})

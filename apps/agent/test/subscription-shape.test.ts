import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Agent } from '../src/agent.ts'
import { startAgents, post } from './support/in-process.ts'
import { events } from './support/ndjson.ts'

const SCHEMA = 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);\nCREATE TABLE u (id INTEGER NOT NULL PRIMARY KEY, t_id INTEGER, v TEXT);\n'
const GROWN = 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT, extra TEXT);\nCREATE TABLE u (id INTEGER NOT NULL PRIMARY KEY, t_id INTEGER, v TEXT, more INTEGER);\n'

describe('a subscription keeps the columns it was created with when the schema grows', () => {
  let agent: Agent
  let dir: string
  let close: () => Promise<void> = async () => {}
  beforeAll(async () => {
    const started = await startAgents(1, SCHEMA)
    agent = started.agents[0]!
    dir = started.dir
    close = started.close
  }, 60_000)
  afterAll(async () => { await close() })

  it('SELECT * over one table and over a join: same columns and cell counts after a reload adds columns', async () => {
    await post(agent, '/v1/transactions', [["INSERT INTO t VALUES (1, 'a')"], ["INSERT INTO u VALUES (10, 1, 'x')"]])
    const abort = new AbortController()
    try {
      const one = await post(agent, '/v1/subscriptions', 'SELECT * FROM t', abort.signal)
      const join_ = await post(agent, '/v1/subscriptions', 'SELECT * FROM t JOIN u ON u.t_id = t.id', abort.signal)
      const [nextOne, nextJoin] = [events(one), events(join_)]
      expect((await nextOne(e => e.columns !== undefined)).columns).toEqual(['id', 'v'])
      expect((await nextJoin(e => e.columns !== undefined)).columns).toEqual(['id', 'v', 'id', 't_id', 'v'])
      await nextOne(e => e.eoq !== undefined)
      await nextJoin(e => e.eoq !== undefined)

      writeFileSync(join(dir, 'schema.sql'), GROWN)
      await agent.reload()
      await post(agent, '/v1/transactions', [["INSERT INTO t VALUES (2, 'b', 'e')"], ["INSERT INTO u VALUES (20, 2, 'y', 7)"], ["UPDATE t SET v = 'a2', extra = 'z' WHERE id = 1"]])

      const changesOne = [await nextOne(e => e.change !== undefined), await nextOne(e => e.change !== undefined)]
      expect(changesOne.map(e => (e.change as unknown[])[2]).sort()).toEqual([[1, 'a2'], [2, 'b']])
      const changesJoin = [await nextJoin(e => e.change !== undefined), await nextJoin(e => e.change !== undefined)]
      expect(changesJoin.map(e => (e.change as unknown[])[2]).sort()).toEqual([[1, 'a2', 10, 1, 'x'], [2, 'b', 20, 2, 'y']])
      // a client attaching later gets the same shape
      const again = await post(agent, '/v1/subscriptions', 'SELECT * FROM t', abort.signal)
      const nextAgain = events(again)
      expect((await nextAgain(e => e.columns !== undefined)).columns).toEqual(['id', 'v'])
      expect((await nextAgain(e => e.row !== undefined)).row).toEqual([expect.any(Number), [1, 'a2']])
    } finally {
      abort.abort()
    }
  })
})

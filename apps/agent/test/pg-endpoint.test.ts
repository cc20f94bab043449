import { describe, it, expect } from 'vitest'
import pg from 'pg'
import { startAgents, post, eventually } from './support/in-process.ts'

describe('PostgreSQL endpoint wired into the agent', () => {
  it('a write through the pg client on one node replicates to another node', async () => {
    const { agents, close } = await startAgents(2, 'CREATE TABLE note (id INTEGER NOT NULL PRIMARY KEY, body TEXT);', { 'api.pg.addr': '127.0.0.1:0' })
    try {
      const [a, b] = agents as [typeof agents[0], typeof agents[0]]
      expect(a.listening.pg).toMatch(/^127\.0\.0\.1:\d+$/)
      const [host, port] = a.listening.pg!.split(':') as [string, string]
      const client = new pg.Client({ host, port: Number(port), user: 'patina', database: 'patina' })
      await client.connect()
      try {
        await client.query('INSERT INTO note (id, body) VALUES ($1, $2)', [1, 'via pg'])
        const r = await client.query('SELECT id, body FROM note')
        expect(r.rows.map(x => [Number(x.id), x.body])).toEqual([[1, 'via pg']])
      } finally {
        await client.end()
      }
      await eventually(async () => {
        const res = await post(b!, '/v1/queries', 'SELECT body FROM note WHERE id = 1')
        return (await res.text()).includes('via pg') ? true : undefined
      }, 15_000, 'pg write on the other node')
    } finally {
      await close()
    }
  })

  it('[api] pg.user / pg.password turn on password auth', async () => {
    const { agents, close } = await startAgents(1, 'CREATE TABLE note (id INTEGER NOT NULL PRIMARY KEY, body TEXT);', { 'api.pg.addr': '127.0.0.1:0', 'api.pg.user': 'app', 'api.pg.password': 'pw-123456' })
    try {
      const [host, port] = agents[0]!.listening.pg!.split(':') as [string, string]
      const wrong = new pg.Client({ host, port: Number(port), user: 'app', password: 'nope', database: 'patina' })
      await expect(wrong.connect()).rejects.toThrow(/password|auth/i)
      const right = new pg.Client({ host, port: Number(port), user: 'app', password: 'pw-123456', database: 'patina' })
      await right.connect()
      const r = await right.query('SELECT 1 AS one')
      expect(Number(r.rows[0].one)).toBe(1)
      await right.end()
    } finally {
      await close()
    }
  })
})

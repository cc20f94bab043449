import postgres from 'postgres'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

describe('postgres (porsager) client', () => {
  let f: PgFixture
  let sql: postgres.Sql

  beforeAll(async () => {
    f = await startPg()
    sql = postgres({ host: f.host, port: f.port, user: 'patina', database: 'patina', max: 2, idle_timeout: 5 })
  })
  afterAll(async () => {
    await sql.end({ timeout: 5 })
    await f.stop()
  })
  beforeEach(() => { f.store.db.exec('DELETE FROM tags; DELETE FROM todos') })

  it('runs tagged-template parameterised statements', async () => {
    await sql`INSERT INTO todos (id, title, score, data) VALUES (${1}, ${'one'}, ${0.25}, ${Buffer.from('hi')})`
    const rows = await sql`SELECT id, title, score, data, done FROM todos WHERE id = ${1}`
    expect(rows).toHaveLength(1)
    expect(rows[0]).toEqual({ id: '1', title: 'one', score: 0.25, data: Buffer.from('hi'), done: false })
    const count = await sql`SELECT count(*) AS n FROM todos`
    expect(count[0]?.n).toBe('1')
  })

  it('commits sql.begin() blocks and rolls back on a thrown error', async () => {
    await sql.begin(async (tx) => {
      await tx`INSERT INTO todos (id, title) VALUES (${1}, ${'a'})`
      await tx`INSERT INTO todos (id, title) VALUES (${2}, ${'b'})`
    })
    await expect(sql.begin(async (tx) => {
      await tx`INSERT INTO todos (id, title) VALUES (${3}, ${'c'})`
      throw new Error('abort')
    })).rejects.toThrow('abort')
    const rows = await sql`SELECT id FROM todos ORDER BY id`
    expect(rows.map((r) => r.id)).toEqual(['1', '2'])
  })

  it('reports errors with SQLSTATE', async () => {
    await expect(sql`SELECT * FROM missing_table`).rejects.toMatchObject({ code: '42P01' })
    await sql`INSERT INTO todos (id, title) VALUES (${5}, ${'x'})`
    await expect(sql`INSERT INTO todos (id, title) VALUES (${5}, ${'again'})`).rejects.toMatchObject({ code: '23505' })
  })

  it('streams COPY in and out', async () => {
    const writable = await sql`COPY todos (id, title) FROM STDIN`.writable()
    await new Promise<void>((resolve, reject) => {
      writable.on('error', reject)
      writable.on('finish', resolve)
      writable.write('21\ttwenty-one\n')
      writable.end('22\ttwenty-two\n')
    })
    const rows = await sql`SELECT id, title FROM todos ORDER BY id`
    expect(rows.map((r) => r.title)).toEqual(['twenty-one', 'twenty-two'])
    const chunks: Buffer[] = []
    for await (const chunk of await sql`COPY todos (id, title) TO STDOUT`.readable()) chunks.push(chunk as Buffer)
    expect(Buffer.concat(chunks).toString()).toBe('21\ttwenty-one\n22\ttwenty-two\n')
  })

  it('runs unsafe simple queries', async () => {
    const r = await sql.unsafe("INSERT INTO todos (id, title) VALUES (9, 'nine')")
    expect(r.count).toBe(1)
    expect(await sql.unsafe('SELECT title FROM todos WHERE id = $1', [9])).toEqual([{ title: 'nine' }])
  })
})

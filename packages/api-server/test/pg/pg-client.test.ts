import pg from 'pg'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

describe('pg client', () => {
  let f: PgFixture
  let client: pg.Client

  beforeAll(async () => { f = await startPg() })
  afterAll(async () => { await f.stop() })
  beforeEach(async () => {
    client = new pg.Client({ host: f.host, port: f.port, user: 'patina', database: 'patina' })
    await client.connect()
    f.store.db.exec('DELETE FROM tags; DELETE FROM todos')
  })
  afterEach(async () => { await client.end() })

  it('runs parameterised writes and reads with every value kind', async () => {
    const ins = await client.query('INSERT INTO todos (id, title, done, score, data) VALUES ($1, $2, $3, $4, $5)', [1, 'héllo', true, 2.5, Buffer.from([0, 1, 255])])
    expect(ins.command).toBe('INSERT')
    expect(ins.rowCount).toBe(1)
    await client.query('INSERT INTO todos (id, title) VALUES ($1, $2)', [2, 'null things'])
    const res = await client.query('SELECT id, title, done, score, data FROM todos WHERE id = $1', [1])
    expect(res.rows).toEqual([{ id: '1', title: 'héllo', done: true, score: 2.5, data: Buffer.from([0, 1, 255]) }])
    expect(res.fields.map((x) => x.dataTypeID)).toEqual([20, 25, 16, 701, 17])
    const nulls = await client.query('SELECT score, data FROM todos WHERE id = 2')
    expect(nulls.rows).toEqual([{ score: null, data: null }])
  })

  it('returns typed computed columns and proper command tags', async () => {
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    const agg = await client.query('SELECT count(*) AS n, sum(id) / 4.0 AS half, max(title) AS top FROM todos')
    expect(agg.rows).toEqual([{ n: '3', half: 1.5, top: 'c' }])
    expect(agg.fields.map((x) => x.dataTypeID)).toEqual([20, 701, 25])
    const upd = await client.query('UPDATE todos SET done = 1 WHERE id >= $1', [2])
    expect([upd.command, upd.rowCount]).toEqual(['UPDATE', 2])
    const del = await client.query('DELETE FROM todos WHERE id = 3')
    expect([del.command, del.rowCount]).toEqual(['DELETE', 1])
    const sel = await client.query('SELECT * FROM todos')
    expect([sel.command, sel.rowCount]).toEqual(['SELECT', 2])
  })

  it('reuses named prepared statements', async () => {
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'a'), (2, 'b')")
    for (const id of [1, 2, 1]) {
      const r = await client.query({ name: 'by-id', text: 'SELECT title FROM todos WHERE id = $1', values: [id] })
      expect(r.rows[0].title).toBe(id === 1 ? 'a' : 'b')
    }
  })

  it('accepts SQLite-style placeholders as well as $n', async () => {
    await client.query('INSERT INTO todos (id, title) VALUES (?, ?)', [3, 'q'])
    expect((await client.query('SELECT title FROM todos WHERE id = ?1 AND title = $2', [3, 'q'])).rows).toEqual([{ title: 'q' }])
  })

  it('runs several statements in one simple query', async () => {
    const results = await client.query("INSERT INTO todos (id, title) VALUES (7, 'x'); SELECT title FROM todos; UPDATE todos SET title = 'y'") as unknown as pg.QueryResult[]
    expect(results.map((r) => r.command)).toEqual(['INSERT', 'SELECT', 'UPDATE'])
    expect(results[1]?.rows).toEqual([{ title: 'x' }])
  })

  it('commits a transaction block as one store transaction', async () => {
    const before = f.store.version
    await client.query('BEGIN')
    await client.query('INSERT INTO todos (id, title) VALUES ($1, $2)', [1, 'a'])
    await client.query('INSERT INTO todos (id, title) VALUES ($1, $2)', [2, 'b'])
    // Reads inside the block see committed state only.
    expect((await client.query('SELECT count(*) AS n FROM todos')).rows[0].n).toBe('0')
    await client.query('COMMIT')
    expect(f.store.version).toBe(before + 1)
    expect((await client.query('SELECT count(*) AS n FROM todos')).rows[0].n).toBe('2')
  })

  it('runs a query string of several writes as one implicit transaction', async () => {
    const before = f.store.version
    const ok = await client.query("INSERT INTO todos (id, title) VALUES (1, 'a'); INSERT INTO todos (id, title) VALUES (2, 'b'), (3, 'c'); UPDATE todos SET done = 1 WHERE id > 1") as unknown as pg.QueryResult[]
    expect(ok.map((r) => [r.command, r.rowCount])).toEqual([['INSERT', 1], ['INSERT', 2], ['UPDATE', 2]])
    expect(f.store.version).toBe(before + 1)
    // a failing statement leaves nothing of the string behind, the writes before it included
    await expect(client.query("INSERT INTO todos (id, title) VALUES (4, 'd'); INSERT INTO todos (id, title) VALUES (1, 'dup'); INSERT INTO todos (id, title) VALUES (5, 'e')")).rejects.toMatchObject({ code: '23505' })
    expect((await client.query('SELECT id FROM todos ORDER BY id')).rows).toEqual([{ id: '1' }, { id: '2' }, { id: '3' }])
    // a string mixing reads and writes still runs statement by statement, so the read sees the write
    const mixed = await client.query("INSERT INTO todos (id, title) VALUES (6, 'f'); SELECT count(*) AS n FROM todos") as unknown as pg.QueryResult[]
    expect(mixed[1]?.rows).toEqual([{ n: '4' }])
  })

  it('discards a rolled-back block', async () => {
    await client.query('BEGIN')
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'a')")
    await client.query('ROLLBACK')
    expect((await client.query('SELECT count(*) AS n FROM todos')).rows[0].n).toBe('0')
  })

  it('fails a block after an error with 25P02 until ROLLBACK', async () => {
    await client.query('BEGIN')
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'a')")
    await expect(client.query('SELECT * FROM nosuch')).rejects.toMatchObject({ code: '42P01' })
    await expect(client.query('SELECT 1')).rejects.toMatchObject({ code: '25P02' })
    const r = await client.query('COMMIT')
    expect(r.command).toBe('ROLLBACK')
    expect((await client.query('SELECT count(*) AS n FROM todos')).rows[0].n).toBe('0')
  })

  it('writes nothing when COMMIT fails', async () => {
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'a')")
    await client.query('BEGIN')
    await client.query("INSERT INTO todos (id, title) VALUES (2, 'b')")
    await client.query("INSERT INTO todos (id, title) VALUES (1, 'dup')")
    await expect(client.query('COMMIT')).rejects.toMatchObject({ code: '23505' })
    const rows = (await client.query('SELECT id FROM todos ORDER BY id')).rows
    expect(rows).toEqual([{ id: '1' }])
  })

  it('maps errors to SQLSTATE codes and keeps the connection usable', async () => {
    await expect(client.query('SELEC 1')).rejects.toMatchObject({ code: '42601' })
    await expect(client.query('SELECT nope FROM todos')).rejects.toMatchObject({ code: '42703' })
    await expect(client.query('INSERT INTO todos (id) VALUES (1)')).rejects.toMatchObject({ code: '23502' })
    await expect(client.query("COPY todos FROM '/etc/passwd'")).rejects.toMatchObject({ code: '0A000' })
    await expect(client.query('SAVEPOINT a')).rejects.toMatchObject({ code: '0A000' })
    // pg has no data stream for COPY FROM STDIN, so it answers CopyFail: the COPY is aborted.
    await expect(client.query('COPY todos FROM STDIN')).rejects.toMatchObject({ code: '57014' })
    await expect(client.query("INSERT INTO todos (id, title) VALUES (1, 'a') RETURNING id")).rejects.toMatchObject({ code: '0A000' })
    // A cast types the parameter, as in PostgreSQL: 'nope' is not an integer.
    await expect(client.query('SELECT $1::int4 AS x', ['nope'])).rejects.toMatchObject({ code: '22P02' })
    expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: '1' }])
  })

  it('never lets a client alter the emulated catalog', async () => {
    await expect(client.query('DELETE FROM pg_catalog.pg_class')).rejects.toBeDefined()
    await expect(client.query('DROP TABLE pg_catalog.pg_class')).rejects.toBeDefined()
    expect((await client.query("SELECT count(*) AS n FROM pg_catalog.pg_class WHERE relkind = 'r'")).rows).toEqual([{ n: '2' }])
  })

  it('answers SET, SHOW and session functions', async () => {
    await client.query("SET application_name = 'tests'")
    expect((await client.query('SHOW application_name')).rows).toEqual([{ application_name: 'tests' }])
    expect((await client.query('SELECT version() AS v')).rows[0].v).toMatch(/^PostgreSQL 14/)
    expect((await client.query('SELECT current_schema() AS s, current_database() AS d, current_user AS u')).rows).toEqual([{ s: 'public', d: 'patina', u: 'patina' }])
    await expect(client.query('SHOW no_such_setting')).rejects.toMatchObject({ code: '42704' })
  })

  it('serves several clients at once', async () => {
    const others = await Promise.all([1, 2, 3].map(async (i) => {
      const c = new pg.Client({ host: f.host, port: f.port, user: `u${i}`, database: 'patina' })
      await c.connect()
      return c
    }))
    await Promise.all(others.map(async (c, i) => c.query('INSERT INTO todos (id, title) VALUES ($1, $2)', [i + 10, `c${i}`])))
    expect((await client.query('SELECT count(*) AS n FROM todos')).rows[0].n).toBe('3')
    await Promise.all(others.map(async (c) => c.end()))
  })

  it('streams a large result', async () => {
    const n = 20_000
    f.store.db.prepare('WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) INSERT INTO todos (id, title) SELECT i, printf(\'todo %d\', i) FROM s').run(n)
    const r = await client.query('SELECT id, title FROM todos ORDER BY id')
    expect(r.rowCount).toBe(n)
    expect(r.rows[n - 1]).toEqual({ id: String(n), title: `todo ${n}` })
  })
})

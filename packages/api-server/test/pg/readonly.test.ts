import pg from 'pg'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { startPg } from './support/pg-fixture.ts'
import { ensurePsql, runPsql } from './support/psql.ts'
import { errorFields, queryMsg, rawStartup } from './support/raw-client.ts'
import type { PgFixture } from './support/pg-fixture.ts'

/** Rejection of `p` as a pg DatabaseError: its SQLSTATE and message. */
async function refusal (p: Promise<unknown>): Promise<{ code: string, message: string }> {
  try {
    await p
  } catch (err) {
    const e = err as { code?: string, message: string }
    return { code: e.code ?? '', message: e.message }
  }
  throw new Error('expected the statement to be refused')
}

describe('read-only pg listener', () => {
  let f: PgFixture
  const count = (): number => (f.store.db.prepare('SELECT count(*) AS n FROM todos').get() as { n: number }).n

  beforeAll(async () => {
    f = await startPg({ readonly: true })
  })
  afterAll(async () => { await f.stop() })
  beforeEach(() => {
    f.store.db.exec("DELETE FROM tags; DELETE FROM todos; INSERT INTO todos (id, title) VALUES (1, 'seed')")
  })

  it('answers reads, refuses every kind of write with 25006, and changes nothing', async () => {
    const client = new pg.Client({ host: f.host, port: f.port, user: 'patina', database: 'patina' })
    await client.connect()
    try {
      const version = f.store.version
      expect((await client.query('SELECT id, title FROM todos')).rows).toEqual([{ id: '1', title: 'seed' }])
      expect((await client.query('SELECT title FROM todos WHERE id = $1', [1])).rows).toEqual([{ title: 'seed' }])
      expect((await client.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'on' }])

      // Simple protocol, extended protocol, DDL, WITH … INSERT, REPLACE, multi-statement strings.
      expect(await refusal(client.query("INSERT INTO todos (id, title) VALUES (2, 'x')"))).toEqual({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' })
      expect(await refusal(client.query('UPDATE todos SET title = $1 WHERE id = $2', ['y', 1]))).toEqual({ code: '25006', message: 'cannot execute UPDATE in a read-only transaction' })
      expect(await refusal(client.query('DELETE FROM todos'))).toMatchObject({ code: '25006', message: expect.stringMatching(/DELETE/) })
      expect(await refusal(client.query("REPLACE INTO todos (id, title) VALUES (1, 'r')"))).toMatchObject({ code: '25006' })
      expect(await refusal(client.query("WITH v AS (SELECT 5 AS id) INSERT INTO todos (id, title) SELECT id, 'w' FROM v"))).toMatchObject({ code: '25006', message: expect.stringMatching(/INSERT/) })
      expect(await refusal(client.query('CREATE TABLE other (id INTEGER PRIMARY KEY)'))).toEqual({ code: '25006', message: 'cannot execute CREATE TABLE in a read-only transaction' })
      expect(await refusal(client.query('DROP TABLE tags'))).toMatchObject({ code: '25006' })
      expect(await refusal(client.query("INSERT INTO todos (id, title) VALUES (3, 'a'); INSERT INTO todos (id, title) VALUES (4, 'b')"))).toMatchObject({ code: '25006' })
      expect(await refusal(client.query("SELECT 1; DELETE FROM todos"))).toMatchObject({ code: '25006' })

      // Inside a block the write is refused at the statement, the block fails, ROLLBACK ends it.
      await client.query('BEGIN')
      expect((await client.query('SELECT count(*) AS n FROM todos')).rows).toEqual([{ n: '1' }])
      expect(await refusal(client.query("INSERT INTO todos (id, title) VALUES (9, 'in block')"))).toMatchObject({ code: '25006' })
      expect(await refusal(client.query('SELECT 1'))).toMatchObject({ code: '25P02' })
      await client.query('ROLLBACK')
      // An empty or read-only block commits fine.
      await client.query('BEGIN')
      await client.query('SELECT 1')
      await client.query('COMMIT')

      expect(f.store.version).toBe(version)
      expect(count()).toBe(1)
      expect(f.store.db.prepare("SELECT name FROM sqlite_master WHERE name = 'other'").all()).toEqual([])
    } finally {
      await client.end()
    }
  })

  it('refuses COPY FROM STDIN before asking for data, and keeps COPY TO', async () => {
    const c = await rawStartup(f.port)
    try {
      c.send(queryMsg('COPY todos (id, title) FROM STDIN'))
      const msgs = await c.readUntil('Z')
      expect(msgs.map((m) => m.type).join('')).toBe('EZ')
      expect(errorFields(msgs[0]!.body)).toMatchObject({ C: '25006', M: 'cannot execute COPY FROM in a read-only transaction' })
      c.send(queryMsg('COPY todos (id, title) TO STDOUT'))
      const out = await c.readUntil('Z')
      expect(out.map((m) => m.type).join('')).toBe('HdcCZ')
    } finally {
      c.close()
    }
    expect(count()).toBe(1)
  })

  const psql = ensurePsql()
  it.skipIf('skip' in psql)('refuses an INSERT from psql', async () => {
    const bin = (psql as { path: string }).path
    const conn = ['-h', f.host, '-p', String(f.port), '-U', 'patina', '-d', 'patina']
    const r = await runPsql(bin, [...conn, '-c', "INSERT INTO todos (id, title) VALUES (5, 'psql')"])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/cannot execute INSERT in a read-only transaction/)
    const sel = await runPsql(bin, [...conn, '-c', 'SELECT title FROM todos'])
    expect(sel.code).toBe(0)
    expect(sel.stdout).toMatch(/seed/)
    expect(count()).toBe(1)
  })
})

describe('a writable pg listener (default)', () => {
  it('still accepts writes and reports transaction_read_only off', async () => {
    const f = await startPg()
    const client = new pg.Client({ host: f.host, port: f.port, user: 'patina', database: 'patina' })
    await client.connect()
    try {
      expect((await client.query('SHOW transaction_read_only')).rows).toEqual([{ transaction_read_only: 'off' }])
      expect((await client.query("INSERT INTO todos (id, title) VALUES (1, 'w')")).rowCount).toBe(1)
    } finally {
      await client.end()
      await f.stop()
    }
  })
})

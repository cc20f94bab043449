/**
 * Parameter typing, booleans, timestamps, `= ANY($n)` and computed-column types, through the real
 * `pg` and `postgres` clients against a real PG endpoint over real SQLite.
 */
import pg from 'pg'
import postgres from 'postgres'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { formatDateTime, normaliseDateTimeParam } from '../../src/pg/datetime.ts'
import { inferUntyped, paramColumnTypes } from '../../src/pg/param-types.ts'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

const SCHEMA = `
CREATE TABLE todos (
  id INTEGER NOT NULL PRIMARY KEY,
  title TEXT NOT NULL DEFAULT '',
  done BOOLEAN NOT NULL DEFAULT 0,
  score REAL,
  created TIMESTAMP,
  seen TIMESTAMPTZ,
  due DATE,
  anything
);
CREATE TABLE nums (id INTEGER NOT NULL PRIMARY KEY, n INTEGER);
CREATE TABLE kv (k TEXT NOT NULL PRIMARY KEY, v TEXT);
`

describe('parameter and result typing', () => {
  let f: PgFixture
  let client: pg.Client
  let sql: postgres.Sql

  beforeAll(async () => {
    f = await startPg({ schema: SCHEMA })
    sql = postgres({ host: f.host, port: f.port, user: 'patina', database: 'patina', max: 1, idle_timeout: 5 })
  })
  afterAll(async () => {
    await sql.end({ timeout: 5 })
    await f.stop()
  })
  beforeEach(async () => {
    client = new pg.Client({ host: f.host, port: f.port, user: 'patina', database: 'patina' })
    await client.connect()
    f.store.db.exec('DELETE FROM todos; DELETE FROM nums; DELETE FROM kv')
    f.store.db.exec("INSERT INTO nums (id, n) VALUES (1, 50), (2, 150), (3, -300); INSERT INTO todos (id, title) VALUES (1, 'ab'), (2, 'abcdef')")
  })
  afterEach(async () => { await client.end() })

  describe('1. untyped and cast parameters', () => {
    it('binds canonical numbers as numbers, so expressions compare numerically (pg)', async () => {
      const ids = async (text: string, values: unknown[]): Promise<string[]> => (await client.query(text, values)).rows.map((r) => String(r.id))
      expect(await ids('SELECT id FROM nums WHERE n + 0 > $1 ORDER BY id', [100])).toEqual(['2'])
      expect(await ids('SELECT id FROM nums WHERE abs(n) > $1 ORDER BY id', [100])).toEqual(['2', '3'])
      expect(await ids('SELECT id FROM todos WHERE length(title) >= $1', [3])).toEqual(['2'])
      expect(await ids('SELECT id FROM nums WHERE n * 1.0 > $1 ORDER BY id', [99.5])).toEqual(['2'])
      const having = await client.query('SELECT count(*) AS c FROM nums GROUP BY n > 0 HAVING count(*) > $1', [1])
      expect(having.rows).toEqual([{ c: '2' }])
    })

    it('types a parameter by its explicit cast and describes it with that OID', async () => {
      const r = await client.query('SELECT $1::int AS x', ['7'])
      expect(r.rows).toEqual([{ x: '7' }])
      expect(r.fields[0]?.dataTypeID).toBe(20)
      const c = await client.query('SELECT CAST($1 AS float8) AS y, $2::text AS z', ['7', '42'])
      expect(c.rows).toEqual([{ y: 7, z: '42' }])
      expect(c.fields.map((x) => x.dataTypeID)).toEqual([701, 25])
      // `$1::text` keeps a numeric-looking value text even where an expression has no affinity.
      expect((await client.query("SELECT 'x' || $1::text AS s, typeof($1::text) AS t", ['1'])).rows).toEqual([{ s: 'x1', t: 'text' }])
      expect((await client.query('SELECT typeof($1) AS t', ['1'])).rows).toEqual([{ t: 'integer' }])
      await expect(client.query('SELECT $1::int AS x', ['seven'])).rejects.toMatchObject({ code: '22P02' })
      // ParameterDescription (postgres.js describes every statement first).
      const described = await sql`SELECT ${'5'}::int8 AS a, ${'x'}::text AS b, ${'1.5'}::float8 AS c, ${'t'}::bool AS d`.describe()
      expect(described.types).toEqual([20, 25, 701, 16])
    })

    it('stores exactly the text the client sent into TEXT columns', async () => {
      const texts = ['123', '007', '1e3', '1.0', '1.50', '-0', '0.00001', '99999999999999.9', '12345678901234567890', '2.5', ' 1', '+1', '0x10']
      for (const [i, t] of texts.entries()) await client.query('INSERT INTO kv (k, v) VALUES ($1, $2)', [`k${i}`, t])
      const rows = f.store.db.prepare("SELECT v, typeof(v) AS t FROM kv ORDER BY CAST(substr(k, 2) AS INTEGER)").all() as Array<{ v: string, t: string }>
      expect(rows.map((r) => r.v)).toEqual(texts)
      expect(new Set(rows.map((r) => r.t))).toEqual(new Set(['text']))
      // Numeric-looking keys still find their rows.
      expect((await client.query('SELECT v FROM kv WHERE k = $1', ['k0'])).rows).toEqual([{ v: '123' }])
      expect((await client.query('SELECT k FROM kv WHERE v = $1', ['1.0'])).rows).toEqual([{ k: 'k3' }])
      expect((await client.query('SELECT k FROM kv WHERE v = $1', ['007'])).rows).toEqual([{ k: 'k1' }])
    })

    it('binds through postgres.js the same way', async () => {
      expect((await sql`SELECT id FROM nums WHERE n + 0 > ${100}`).map((r) => r.id)).toEqual(['2'])
      expect((await sql`SELECT id FROM todos WHERE length(title) >= ${3}`).map((r) => r.id)).toEqual(['2'])
    })
  })

  describe('2. booleans', () => {
    it('stores pg booleans into BOOLEAN columns as 1/0 and compares them (pg)', async () => {
      await client.query('INSERT INTO todos (id, title, done) VALUES ($1, $2, $3), ($4, $5, $6)', [10, 't', true, 11, 'f', false])
      await client.query('UPDATE todos SET done = $1 WHERE id = $2', [true, 1])
      const stored = f.store.db.prepare('SELECT id, done, typeof(done) AS t, title FROM todos WHERE id IN (1, 10, 11) ORDER BY id').all()
      expect(stored).toEqual([
        { id: 1, done: 1, t: 'integer', title: 'ab' },
        { id: 10, done: 1, t: 'integer', title: 't' },
        { id: 11, done: 0, t: 'integer', title: 'f' }
      ])
      expect((await client.query('SELECT id FROM todos WHERE done = $1 ORDER BY id', [true])).rows).toEqual([{ id: '1' }, { id: '10' }])
      expect((await client.query('SELECT id, done FROM todos WHERE $1 = done ORDER BY id', [false])).rows).toEqual([{ id: '2', done: false }, { id: '11', done: false }])
      // A 'true' going to a TEXT column stays text.
      expect((await client.query('SELECT id FROM todos WHERE title = $1', ['t'])).rows).toEqual([{ id: '10' }])
      await client.query('INSERT INTO kv (k, v) VALUES ($1, $2)', ['b', 'true'])
      expect(f.store.db.prepare("SELECT v FROM kv WHERE k = 'b'").get()).toEqual({ v: 'true' })
    })

    it('binds bool-typed and ::bool parameters as 1/0', async () => {
      // postgres.js sends JS booleans typed bool (OID 16).
      await sql`INSERT INTO todos (id, title, done) VALUES (${20}, ${'x'}, ${true})`
      expect(f.store.db.prepare('SELECT done FROM todos WHERE id = 20').get()).toEqual({ done: 1 })
      expect((await sql`SELECT id FROM todos WHERE done = ${true}`).map((r) => r.id)).toEqual(['20'])
      expect((await client.query('SELECT $1::bool AS b, typeof($1::boolean) AS t', ['true'])).rows).toEqual([{ b: '1', t: 'integer' }])
    })
  })

  describe('3. timestamps', () => {
    it('round-trips a JS Date through a TIMESTAMP column with pg', async () => {
      const d = new Date('2024-05-06T07:08:09.123Z')
      await client.query('INSERT INTO todos (id, title, created, seen, due) VALUES ($1, $2, $3, $4, $5)', [30, 'dated', d, d, '2024-05-06'])
      const r = await client.query('SELECT created, seen, due FROM todos WHERE id = $1', [30])
      expect(r.fields.map((x) => x.dataTypeID)).toEqual([1114, 1184, 1082])
      expect(r.rows[0].created).toBeInstanceOf(Date)
      expect((r.rows[0].created as Date).getTime()).toBe(d.getTime())
      expect((r.rows[0].seen as Date).getTime()).toBe(d.getTime())
      // Rows written before (or by other tools) in ISO-8601 'T' form are sent in PostgreSQL's format.
      f.store.db.exec("INSERT INTO todos (id, title, created, seen, due) VALUES (31, 'iso', '2024-05-06T07:08:09.5Z', '2024-05-06T09:08:09+02:00', '2024-05-06T00:00:00Z'), (32, 'junk', 'not a date', 'soon', 'today')")
      const raw = await client.query({ text: 'SELECT created, seen, due FROM todos WHERE id IN (31, 32) ORDER BY id', rowMode: 'array', types: { getTypeParser: () => (v: string) => v } })
      expect(raw.rows).toEqual([
        ['2024-05-06 07:08:09.5', '2024-05-06 07:08:09+00', '2024-05-06'],
        ['not a date', 'soon', 'today']
      ])
    })

    it('round-trips a Date with postgres.js and stores timestamps in one format', async () => {
      const d = new Date('2024-05-06T07:08:09.123Z')
      await sql`INSERT INTO todos (id, title, created, seen) VALUES (${40}, ${'pjs'}, ${d}, ${d})`
      const [row] = await sql`SELECT created, seen FROM todos WHERE id = ${40}`
      expect((row?.created as Date).getTime()).toBe(d.getTime())
      expect((row?.seen as Date).getTime()).toBe(d.getTime())
      await client.query('INSERT INTO todos (id, title, created, seen) VALUES ($1, $2, $3, $4)', [41, 'pg', d, d])
      const stored = f.store.db.prepare('SELECT created, seen FROM todos WHERE id IN (40, 41) ORDER BY id').all()
      expect(stored).toEqual([
        { created: '2024-05-06 07:08:09.123', seen: '2024-05-06 07:08:09.123' },
        { created: '2024-05-06 07:08:09.123', seen: '2024-05-06 07:08:09.123' }
      ])
      // Comparisons against typed and untyped parameters agree with the stored form.
      expect((await sql`SELECT id FROM todos WHERE seen = ${d} ORDER BY id`).map((r) => r.id)).toEqual(['40', '41'])
      expect((await client.query('SELECT id FROM todos WHERE created = $1 ORDER BY id', [d])).rows).toEqual([{ id: '40' }, { id: '41' }])
    })
  })

  describe('4. = ANY($n)', () => {
    it('matches array parameters with pg', async () => {
      const r = await client.query('SELECT id FROM nums WHERE id = ANY($1) ORDER BY id', [[1, 3, 99]])
      expect(r.rows).toEqual([{ id: '1' }, { id: '3' }])
      expect((await client.query('SELECT id FROM nums WHERE id <> ALL($1) ORDER BY id', [[1, 3]])).rows).toEqual([{ id: '2' }])
      expect((await client.query('SELECT id FROM nums WHERE id = ANY($1::int[]) ORDER BY id', [[2]])).rows).toEqual([{ id: '2' }])
      expect((await client.query('SELECT id FROM nums WHERE id = ANY($1)', [[]])).rows).toEqual([])
      const keys = ['a,b', 'say "hi"', 'back\\slash', '{brace}', 'NULL', '', ' sp ']
      for (const k of keys) await client.query('INSERT INTO kv (k, v) VALUES ($1, $2)', [k, 'x'])
      const got = await client.query('SELECT k FROM kv WHERE k = ANY($1) ORDER BY k', [[...keys, null, 'missing']])
      expect(got.rows.map((x) => x.k)).toEqual([...keys].sort())
      // NULL elements: no match, as in PostgreSQL (= ANY gives NULL, not true).
      expect((await client.query('SELECT id FROM nums WHERE id = ANY($1) ORDER BY id', [[null, 2]])).rows).toEqual([{ id: '2' }])
      expect((await client.query('SELECT count(*) AS c FROM nums WHERE id <> ALL($1)', [[null, 2]])).rows).toEqual([{ c: '0' }])
    })

    it('matches array parameters with postgres.js', async () => {
      expect((await sql`SELECT id FROM nums WHERE id = ANY(${[1, 2]}) ORDER BY id`).map((r) => r.id)).toEqual(['1', '2'])
      await client.query('INSERT INTO kv (k, v) VALUES ($1, $2), ($3, $4)', ['a,b', '1', 'c"d', '2'])
      expect((await sql`SELECT v FROM kv WHERE k = ANY(${['a,b', 'c"d']}) ORDER BY v`).map((r) => r.v)).toEqual(['1', '2'])
      expect((await sql`SELECT v FROM kv WHERE k = ANY(${sql.array(['c"d'])})`).map((r) => r.v)).toEqual(['2'])
    })
  })

  describe('5. computed column types', () => {
    it('types computed columns by the storage class of their values', async () => {
      const r = await client.query('SELECT 1.0 AS f, 1 AS i, 2.5 AS h, \'x\' AS t, x\'00ff\' AS b, NULL AS n')
      expect(r.fields.map((x) => x.dataTypeID)).toEqual([701, 20, 701, 25, 17, 25])
      expect(r.rows).toEqual([{ f: 1, i: '1', h: 2.5, t: 'x', b: Buffer.from([0, 255]), n: null }])
      const u = await client.query("SELECT 1 AS v UNION ALL SELECT 'x' UNION ALL SELECT 2.5")
      expect(u.fields[0]?.dataTypeID).toBe(25)
      expect(u.rows.map((x) => x.v)).toEqual(['1', 'x', '2.5'])
      const mixedNumbers = await client.query('SELECT 1 AS v UNION ALL SELECT 2.5 ORDER BY 1')
      expect(mixedNumbers.fields[0]?.dataTypeID).toBe(701)
      expect(mixedNumbers.rows).toEqual([{ v: 1 }, { v: 2.5 }])
      // Declared-type columns keep their types; ORDER BY and LIMIT are kept by the typing wrapper.
      const d = await client.query('SELECT id, score, id * 1.0 AS x FROM nums LEFT JOIN todos USING (id) ORDER BY id DESC LIMIT 2')
      expect(d.fields.map((x) => x.dataTypeID)).toEqual([20, 701, 701])
      expect(d.rows).toEqual([{ id: '3', score: null, x: 3 }, { id: '2', score: null, x: 2 }])
      const agg = await client.query('WITH s AS (SELECT n FROM nums) SELECT count(*) AS c, avg(n) AS a, sum(n) AS s FROM s')
      expect(agg.fields.map((x) => x.dataTypeID)).toEqual([20, 701, 20])
      expect(agg.rows).toEqual([{ c: '3', a: -100 / 3, s: '-100' }])
    })

    it('types computed columns for postgres.js', async () => {
      const [row] = await sql`SELECT 1.0 AS f, 1 AS i, 'x' AS t`
      expect(row).toEqual({ f: 1, i: '1', t: 'x' })
      const numbers = await sql`SELECT 1 AS v UNION ALL SELECT 'x'`
      expect(numbers.map((r) => r.v)).toEqual(['1', 'x'])
    })
  })
})

describe('typing helpers', () => {
  it('infers untyped text conservatively', () => {
    expect(['0', '-5', '42', '9223372036854775807', '9223372036854775808', '-0', '007', '2.5', '-0.25', '1.0', '1.50', '1e3', '0.00001'].map(inferUntyped))
      .toEqual([0, -5, 42, 9223372036854775807n, '9223372036854775808', '-0', '007', 2.5, -0.25, '1.0', '1.50', '1e3', '0.00001'])
  })

  it('formats and normalises dates, leaving other text alone', () => {
    expect(formatDateTime('2024-05-06T23:30:00-02:00', 1184)).toBe('2024-05-07 01:30:00+00')
    expect(formatDateTime('2024-05-06T23:30:00.120000-02:00', 1114)).toBe('2024-05-06 23:30:00.12')
    expect(formatDateTime('2024-05-06', 1114)).toBe('2024-05-06 00:00:00')
    expect(formatDateTime('2024-05-06 01:02:03', 1082)).toBe('2024-05-06')
    expect(formatDateTime('2024-13-06 01:02:03', 1114)).toBe('2024-13-06 01:02:03')
    expect(normaliseDateTimeParam('2024-05-06T09:08:09.123+02:00', 1184)).toBe('2024-05-06 07:08:09.123')
    expect(normaliseDateTimeParam('2024-05-06T09:08:09.123+02:00', 1114)).toBe('2024-05-06 09:08:09.123')
  })

  it('finds the column a parameter meets', () => {
    const schema = { indexes: [], tables: [
      { name: 'todos', sql: '', columns: [{ name: 'id', type: 'INTEGER', notNull: true, pk: 1, defaultValue: null }, { name: 'done', type: 'BOOLEAN', notNull: false, pk: 0, defaultValue: null }, { name: 'at', type: 'TIMESTAMP', notNull: false, pk: 0, defaultValue: null }] },
      { name: 'other', sql: '', columns: [{ name: 'done', type: 'TEXT', notNull: false, pk: 0, defaultValue: null }] }
    ] }
    expect(paramColumnTypes('INSERT INTO todos (done, id) VALUES ($1, $2), ($3::bool, 4)', schema, 3)).toEqual([16, 20, 16])
    expect(paramColumnTypes('INSERT INTO todos VALUES ($1, $2, $3)', schema, 3)).toEqual([20, 16, 1114])
    expect(paramColumnTypes('UPDATE todos SET done = $1 WHERE t.at = $2 AND $3 = done', schema, 3)).toEqual([16, 1114, 16])
    // Ambiguous between two named tables: no column type.
    expect(paramColumnTypes('SELECT 1 FROM todos JOIN other ON 1 WHERE done = $1', schema, 1)).toEqual([0])
    expect(paramColumnTypes("SELECT 1 FROM todos WHERE 'done = $1' = $1", schema, 1)).toEqual([0])
  })
})

import { describe, expect, it } from 'vitest'
import { createCatalog } from '../../src/pg/catalog.ts'
import type { CatalogSession } from '../../src/pg/catalog.ts'
import type { SchemaInfo, SqlValue } from '../../src/ports.ts'

const schema: SchemaInfo = {
  tables: [
    {
      name: 'users',
      sql: 'CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(80) NOT NULL, bio TEXT DEFAULT \'\')',
      columns: [
        { name: 'id', type: 'INTEGER', notNull: false, pk: 1, defaultValue: null },
        { name: 'email', type: 'VARCHAR(80)', notNull: true, pk: 0, defaultValue: null },
        { name: 'bio', type: 'TEXT', notNull: false, pk: 0, defaultValue: "''" }
      ]
    },
    {
      name: 'posts',
      sql: 'CREATE TABLE posts (id INTEGER PRIMARY KEY, author INTEGER REFERENCES users (id), body BLOB)',
      columns: [
        { name: 'id', type: 'INTEGER', notNull: false, pk: 1, defaultValue: null },
        { name: 'author', type: 'INTEGER', notNull: false, pk: 0, defaultValue: null },
        { name: 'body', type: 'BLOB', notNull: false, pk: 0, defaultValue: null }
      ]
    }
  ],
  indexes: [{ name: 'users_email', table: 'users', sql: 'CREATE UNIQUE INDEX users_email ON users (email)' }]
}

const session: CatalogSession = { user: 'alice', database: 'app', pid: 1, settings: new Map([['timezone', 'UTC']]) }

function all (sql: string, params: SqlValue[] = [], s: SchemaInfo = schema): { columns: Array<{ name: string, oid: number }>, rows: SqlValue[][] } {
  const catalog = createCatalog({ schema: () => s, serverVersion: '14.0' })
  const r = catalog.query(sql, params, session)
  const rows: SqlValue[][] = []
  for (let row = r.next(); row !== undefined; row = r.next()) rows.push(row)
  catalog.close()
  return { columns: r.columns, rows }
}

describe('emulated catalog', () => {
  it('lists user tables in pg_class with a namespace, typed as PostgreSQL reports them', () => {
    const r = all(`SELECT n.nspname, c.relname, c.relkind, c.relhasindex FROM pg_catalog.pg_class c
      LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r','p','') AND n.nspname !~ '^pg_toast' ORDER BY 1, 2`)
    expect(r.rows).toEqual([['public', 'posts', 'r', 1], ['public', 'users', 'r', 1]])
    expect(r.columns.map((c) => c.oid)).toEqual([19, 19, 18, 16])
  })

  it('describes columns with format_type, defaults and not-null', () => {
    const oid = all("SELECT c.oid FROM pg_catalog.pg_class c WHERE c.relname OPERATOR(pg_catalog.~) '^(users)$' COLLATE pg_catalog.default").rows[0]?.[0]
    const r = all(`SELECT a.attname, pg_catalog.format_type(a.atttypid, a.atttypmod),
      (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true) FROM pg_catalog.pg_attrdef d WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
      a.attnotnull FROM pg_catalog.pg_attribute a WHERE a.attrelid = '${String(oid)}' AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`)
    expect(r.rows).toEqual([['id', 'bigint', null, 1], ['email', 'character varying(80)', null, 1], ['bio', 'text', "''", 0]])
  })

  it('lists the primary key and unique indexes with their definitions', () => {
    const r = all(`SELECT c2.relname, i.indisprimary, i.indisunique, pg_catalog.pg_get_indexdef(i.indexrelid, 0, true), pg_catalog.pg_get_constraintdef(con.oid, true)
      FROM pg_catalog.pg_class c, pg_catalog.pg_class c2, pg_catalog.pg_index i
      LEFT JOIN pg_catalog.pg_constraint con ON (conrelid = i.indrelid AND conindid = i.indexrelid AND contype IN ('p','u','x'))
      WHERE c.relname = 'users' AND c.oid = i.indrelid AND i.indexrelid = c2.oid ORDER BY i.indisprimary DESC, c2.relname`)
    expect(r.rows).toEqual([
      ['users_pkey', 1, 1, 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)', 'PRIMARY KEY (id)'],
      ['users_email', 0, 1, 'CREATE UNIQUE INDEX users_email ON public.users USING btree (email)', null]
    ])
  })

  it('reads quoted, descending and expression index keys', () => {
    const s: SchemaInfo = {
      tables: [{ name: 'Events', sql: 'CREATE TABLE "Events" ("At Time" TEXT, kind TEXT)', columns: [
        { name: 'At Time', type: 'TEXT', notNull: false, pk: 0, defaultValue: null },
        { name: 'kind', type: 'TEXT', notNull: false, pk: 0, defaultValue: null }
      ] }],
      indexes: [{ name: 'ev_at', table: 'Events', sql: 'CREATE INDEX ev_at ON "Events" ("At Time" DESC, lower(kind)) WHERE kind IS NOT NULL' }]
    }
    const r = all("SELECT pg_get_indexdef(indexrelid), indkey, pg_get_indexdef(indexrelid, 1, true) FROM pg_index", [], s)
    expect(r.rows).toEqual([['CREATE INDEX ev_at ON public."Events" USING btree ("At Time" DESC, lower(kind)) WHERE (kind IS NOT NULL)', '1 0', '"At Time" DESC']])
    const attrs = all("SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid WHERE c.relname = 'ev_at' ORDER BY attnum", [], s)
    expect(attrs.rows).toEqual([['At Time', 'text'], ['lower(kind)', 'text']])
  })

  it('reports foreign keys', () => {
    const r = all("SELECT conname, conrelid::pg_catalog.regclass, pg_catalog.pg_get_constraintdef(oid, true) FROM pg_catalog.pg_constraint WHERE contype = 'f'")
    expect(r.rows).toEqual([['posts_author_fkey', 'posts', 'FOREIGN KEY (author) REFERENCES users(id)']])
  })

  it('answers information_schema and session functions', () => {
    expect(all("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1").rows).toEqual([['posts'], ['users']])
    expect(all("SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = $1 ORDER BY ordinal_position", ['posts']).rows)
      .toEqual([['id', 'bigint', 'NO'], ['author', 'bigint', 'YES'], ['body', 'bytea', 'YES']])
    expect(all('SELECT current_user, current_database(), current_schema(), current_setting($1)', ['TimeZone']).rows).toEqual([['alice', 'app', 'public', 'UTC']])
    expect(all("SELECT 'users'::regclass::oid = (SELECT oid FROM pg_class WHERE relname = 'users')").rows).toEqual([[1]])
  })

  it('aggregates like string_agg and array_agg', () => {
    expect(all("SELECT string_agg(relname, ',') FROM (SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY relname)").rows).toEqual([['posts,users']])
    expect(all("SELECT array_agg(relname) FROM (SELECT relname FROM pg_class WHERE relkind = 'r' ORDER BY relname)").rows).toEqual([['{posts,users}']])
  })

  it('follows schema changes', () => {
    const catalog = createCatalog({ schema: () => current, serverVersion: '14.0' })
    let current: SchemaInfo = { tables: [], indexes: [] }
    const count = (): SqlValue | undefined => catalog.query("SELECT count(*) FROM pg_class WHERE relkind = 'r'", [], session).next()?.[0]
    expect(count()).toBe(0)
    current = schema
    expect(count()).toBe(2)
    catalog.close()
  })

  it('throws SQLite errors for what it cannot answer', () => {
    expect(() => all('SELECT * FROM pg_catalog.pg_no_such_table')).toThrow(/no such table/)
  })

  it('lists tables and indexes through pg_tables and pg_indexes', () => {
    expect(all("SELECT tablename, tableowner, hasindexes FROM pg_catalog.pg_tables WHERE schemaname = 'public' ORDER BY tablename").rows)
      .toEqual([['posts', 'alice', 1], ['users', 'alice', 1]])
    expect(all("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'users' ORDER BY indexname").rows).toEqual([
      ['users_email', 'CREATE UNIQUE INDEX users_email ON public.users USING btree (email)'],
      ['users_pkey', 'CREATE UNIQUE INDEX users_pkey ON public.users USING btree (id)']
    ])
  })
})

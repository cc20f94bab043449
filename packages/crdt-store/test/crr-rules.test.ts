import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import { changesView, rows } from './helpers.ts'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })

function refused (sql: string, rule: string, table: string): void {
  const s = openStore({ path: ':memory:' })
  try {
    expect(() => s.applySchema(sql)).toThrow(expect.objectContaining({ name: 'SchemaChangeError', rule, table }))
    try { s.applySchema(sql) } catch (err) { expect((err as Error).message).toContain(`"${table}"`) }
    expect(s.schema().tables).toEqual([])
  } finally { s.close() }
}

describe('CRR rules', () => {
  it('requires a primary key', () => refused('CREATE TABLE nopk (a TEXT, b INTEGER)', 'primary-key', 'nopk'))
  it('requires NOT NULL primary keys', () => refused('CREATE TABLE np (id INTEGER PRIMARY KEY, a TEXT)', 'primary-key-not-null', 'np'))
  it('refuses UNIQUE besides the primary key', () => {
    refused('CREATE TABLE u (id INTEGER PRIMARY KEY NOT NULL, email TEXT UNIQUE)', 'unique', 'u')
    refused('CREATE TABLE u2 (id INTEGER PRIMARY KEY NOT NULL, email TEXT); CREATE UNIQUE INDEX u2e ON u2 (email)', 'unique', 'u2')
    // the error quotes the statement at fault: the index, not the table
    const s = openStore({ path: ':memory:' })
    try {
      expect(() => s.applySchema(['CREATE TABLE u3 (id INTEGER PRIMARY KEY NOT NULL, email TEXT)', 'CREATE UNIQUE INDEX IF NOT EXISTS "u3 e" ON u3 (email)']))
        .toThrow(expect.objectContaining({ statement: 'CREATE UNIQUE INDEX IF NOT EXISTS "u3 e" ON u3 (email)' }))
    } finally { s.close() }
  })
  it('refuses foreign keys', () => refused('CREATE TABLE p (id INTEGER PRIMARY KEY NOT NULL); CREATE TABLE c (id INTEGER PRIMARY KEY NOT NULL, pid INTEGER REFERENCES p (id))', 'foreign-key', 'c'))
  it('refuses NOT NULL non-PK columns without DEFAULT', () => refused('CREATE TABLE nn (id INTEGER PRIMARY KEY NOT NULL, a TEXT NOT NULL)', 'not-null-default', 'nn'))
  it('refuses CHECK constraints over several columns, accepts single-column ones', () => {
    refused('CREATE TABLE r (id INTEGER PRIMARY KEY NOT NULL, lo INTEGER, hi INTEGER, CHECK (lo <= hi))', 'check', 'r')
    const s = openStore({ path: ':memory:' })
    s.applySchema("CREATE TABLE ok (id INTEGER PRIMARY KEY NOT NULL, n INTEGER CHECK (n >= 0), s TEXT CHECK (s <> 'lo, hi'))")
    expect(() => s.transaction([{ sql: 'INSERT INTO ok (id, n) VALUES (1, -1)' }])).toThrow(expect.objectContaining({ name: 'SqlError' }))
    s.close()
  })
  it('refuses AUTOINCREMENT', () => refused('CREATE TABLE ai (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, a TEXT)', 'autoincrement', 'ai'))
  it('accepts composite keys, WITHOUT ROWID, defaults, non-unique indexes', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(`CREATE TABLE a (x TEXT NOT NULL, y INTEGER NOT NULL, v TEXT NOT NULL DEFAULT 'd', PRIMARY KEY (x, y)) WITHOUT ROWID;
      CREATE TABLE b (id TEXT PRIMARY KEY NOT NULL, n INTEGER); CREATE INDEX b_n ON b (n);`)
    expect(s.schema().tables.map(t => t.name)).toEqual(['a', 'b'])
    expect(s.schema().indexes).toEqual([{ name: 'b_n', table: 'b', sql: 'CREATE INDEX b_n ON b (n)' }])
    s.close()
  })
  it('creates the clock table and triggers; internals stay out of schema()', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)')
    const names = [...s.read("SELECT name FROM sqlite_master WHERE name LIKE 't\\_\\_crsql%' ESCAPE '\\' ORDER BY name").rows].map(r => r[0])
    expect(names).toEqual(['t__crsql_clock', 't__crsql_dtrig', 't__crsql_itrig', 't__crsql_ptrig', 't__crsql_utrig_a'])
    expect(s.schema().tables).toEqual([{ name: 't', sql: 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)', columns: [
      { name: 'id', type: 'INTEGER', notNull: true, pk: 1, defaultValue: null },
      { name: 'a', type: 'TEXT', notNull: false, pk: 0, defaultValue: null }] }])
    s.close()
  })
  it('backfills existing rows once when a table becomes a CRR', () => {
    const dir = mkdtempSync(join(tmpdir(), 'crdt-rules-'))
    dirs.push(dir)
    const path = join(dir, 'db.sqlite')
    const raw = new Database(path)
    raw.exec("CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER DEFAULT 7); INSERT INTO t VALUES (1, 'x', 3), (2, NULL, 7)")
    raw.close()
    const s = openStore({ path })
    const ch = s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER DEFAULT 7)')
    expect(ch.unchanged).toBe(false)
    expect(s.syncStatus().find(a => a.actor === Buffer.from(s.siteId).toString('hex'))?.head).toBe(1)
    const v = changesView(s) as unknown[][]
    expect(v.length).toBe(4)
    expect(v.every(r => r[4] === 1 && r[5] === 1 && r[7] === 1)).toBe(true)
    // second application: nothing new
    expect(s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER DEFAULT 7)').unchanged).toBe(true)
    expect(changesView(s)).toEqual(v)
    expect(rows(s, 't')).toEqual([[1, 'x', 3], [2, null, 7]])
    s.close()
  })
})

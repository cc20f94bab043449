import { describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import { changesView, pull, rows } from './helpers.ts'

const base = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT);\nCREATE INDEX t_a ON t (a);'

describe('applySchema', () => {
  it('is idempotent and reports what it did', () => {
    const s = openStore({ path: ':memory:' })
    const first = s.applySchema(base)
    expect(first).toEqual({ createdTables: ['t'], addedColumns: [], createdIndexes: ['t_a'], droppedIndexes: [], unchanged: false })
    expect(s.applySchema(base).unchanged).toBe(true)
    expect(s.applySchema([base]).unchanged).toBe(true)
    s.close()
  })
  it('adds nullable and constant-DEFAULT columns without rewriting clock rows', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(base)
    s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'x'), (2, 'y')" }])
    const before = changesView(s)
    const ch = s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c TEXT NOT NULL DEFAULT \'z\');\nCREATE INDEX t_a ON t (a);')
    expect(ch.addedColumns).toEqual([{ table: 't', column: 'b' }, { table: 't', column: 'c' }])
    expect(changesView(s)).toEqual(before)
    expect(rows(s, 't')).toEqual([[1, 'x', null, 'z'], [2, 'y', null, 'z']])
    const r = s.transaction([{ sql: 'UPDATE t SET b = 5 WHERE id = 1' }])
    expect(r.version).toBe(2)
    expect(r.changesets[0]!.changes.map(c => [c.cid, c.val, c.colVersion])).toEqual([['b', 5n, 1]])
    s.close()
  })
  it('adds and drops indexes', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(base)
    const ch = s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT); CREATE INDEX t_id_a ON t (id, a);')
    expect(ch.droppedIndexes).toEqual(['t_a'])
    expect(ch.createdIndexes).toEqual(['t_id_a'])
    expect(s.schema().indexes.map(i => i.name)).toEqual(['t_id_a'])
    const ch2 = s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT); CREATE INDEX t_id_a ON t (a, id);')
    expect(ch2.droppedIndexes).toEqual(['t_id_a'])
    expect(ch2.createdIndexes).toEqual(['t_id_a'])
    s.close()
  })
  it('keeps tables missing from the schema text', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(base)
    s.applySchema('CREATE TABLE other (k TEXT PRIMARY KEY NOT NULL)')
    expect(s.schema().tables.map(t => t.name)).toEqual(['t', 'other'])
    s.close()
  })
  const refusals: [string, string, string][] = [
    ['drop column', 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL)', 'drop-column'],
    ['type change', 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a BLOB)', 'change-column'],
    ['pk change', 'CREATE TABLE t (id INTEGER NOT NULL, a TEXT NOT NULL DEFAULT \'\', PRIMARY KEY (id, a))', 'change-column'],
    ['new pk column', 'CREATE TABLE t (id INTEGER NOT NULL, a TEXT, k TEXT NOT NULL, PRIMARY KEY (id, k))', 'add-pk-column'],
    ['drop table', 'DROP TABLE t', 'drop-table'],
    ['alter', 'ALTER TABLE t ADD COLUMN z TEXT', 'alter'],
    ['insert', "INSERT INTO t VALUES (1, 'a')", 'unsupported-statement'],
    ['view', 'CREATE VIEW v AS SELECT 1', 'unsupported-statement'],
    ['temp', 'CREATE TEMP TABLE x (id INTEGER PRIMARY KEY NOT NULL)', 'temporary'],
    ['as select', 'CREATE TABLE x AS SELECT 1 AS id', 'create-as-select'],
    ['drop index without if exists', 'DROP INDEX t_a', 'drop-index'],
    ['syntax', 'CREATE TABLE (', 'syntax'],
    ['reserved', 'CREATE TABLE __patina_x (id INTEGER PRIMARY KEY NOT NULL)', 'reserved-name'],
    ['not null without default', 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, z TEXT NOT NULL)', 'not-null-default']
  ]
  for (const [what, sql, rule] of refusals) {
    it(`refuses ${what} with a SchemaChangeError naming the statement; nothing partial`, () => {
      const s = openStore({ path: ':memory:' })
      s.applySchema(base)
      s.transaction([{ sql: "INSERT INTO t VALUES (1, 'a')" }])
      const before = s.schema()
      // the valid new table in the same text must not be created either
      const text = `CREATE TABLE fresh (id INTEGER PRIMARY KEY NOT NULL);\n${sql};`
      let err: (Error & { rule?: string; statement?: string }) | undefined
      try { s.applySchema(text) } catch (e) { err = e as Error }
      expect(err?.name).toBe('SchemaChangeError')
      expect(err?.rule).toBe(rule)
      expect(err?.message).toContain('statement')
      expect(s.schema()).toEqual(before)
      expect(rows(s, 't')).toEqual([[1, 'a']])
      s.close()
    })
  }
  it('adds a column with its own COLLATE and CHECK, and refuses what SQLite cannot ALTER', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE CHECK (length(a) < 10))')
    const v2 = "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE CHECK (length(a) < 10), b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad'))"
    expect(s.applySchema(v2).addedColumns).toEqual([{ table: 't', column: 'b' }])
    expect(s.applySchema(v2).unchanged).toBe(true)
    s.transaction([{ sql: "INSERT INTO t (id, a, b) VALUES (1, 'Hi', 'Yo')" }])
    expect([...s.read("SELECT id FROM t WHERE b = 'yo'").rows]).toEqual([[1]])
    expect(() => s.transaction([{ sql: "UPDATE t SET b = 'bad'" }])).toThrow(expect.objectContaining({ name: 'SqlError' }))
    const refusals: [string, string][] = [
      ["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT CHECK (length(a) < 10), b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad'))", 'change-table'],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE, b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad'))", 'change-table'],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE CHECK (length(a) < 10), b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad')) STRICT", 'change-table'],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE CHECK (length(a) < 10), b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad'), g INTEGER GENERATED ALWAYS AS (id * 2) STORED)", 'add-generated-column'],
      ["CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE CHECK (length(a) < 10), b TEXT COLLATE NOCASE DEFAULT 'x' CHECK (b <> 'bad'), c INTEGER DEFAULT (1 + 1))", 'add-column-default']
    ]
    for (const [sql, rule] of refusals) expect(() => s.applySchema(sql), rule).toThrow(expect.objectContaining({ name: 'SchemaChangeError', rule }))
    expect(s.applySchema(v2).unchanged).toBe(true)
    s.close()
  })
  it('rolls back everything when a later step fails', () => {
    const s = openStore({ path: ':memory:' })
    s.applySchema(base)
    s.transaction([{ sql: "INSERT INTO t VALUES (1, 'a')" }])
    const before = s.schema()
    // a non-constant default passes planning but fails at ALTER TABLE time
    expect(() => s.applySchema('CREATE TABLE n (id INTEGER PRIMARY KEY NOT NULL); CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, ts TEXT DEFAULT CURRENT_TIMESTAMP)'))
      .toThrow(expect.objectContaining({ name: 'SchemaChangeError' }))
    expect(s.schema()).toEqual(before)
    s.transaction([{ sql: "INSERT INTO t VALUES (2, 'b')" }])
    expect(rows(s, 't')).toEqual([[1, 'a'], [2, 'b']])
    s.close()
  })
  it('replicates between stores whose schemas gained a column at different times', () => {
    const a = openStore({ path: ':memory:' })
    const b = openStore({ path: ':memory:' })
    a.applySchema(base)
    b.applySchema(base)
    a.transaction([{ sql: "INSERT INTO t VALUES (1, 'a')" }])
    pull(b, a)
    const v2 = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b TEXT); CREATE INDEX t_a ON t (a);'
    a.applySchema(v2)
    a.transaction([{ sql: "UPDATE t SET b = 'new' WHERE id = 1" }])
    expect(() => pull(b, a)).toThrow(expect.objectContaining({ name: 'UnknownColumnError' }))
    b.applySchema(v2)
    pull(b, a)
    expect(rows(b, 't')).toEqual([[1, 'a', 'new']])
    a.close(); b.close()
  })
})

/**
 * Differential tests for schema and statement shapes at the edges: collations, a key that is not
 * a rowid alias, key moves and REPLACE onto rows whose sentinel is implied. Same writes on the real
 * cr-sqlite (the oracle) and on Patina stores; merged contents and per-cell winners compared.
 */
import { afterEach, describe, expect, test } from 'vitest'
import { openStore, SchemaChangeError } from '../src/index.ts'
import { changesView, rows, stores, syncAll } from './helpers.ts'
import { type World, createWorld, patinaContents } from './oracle/differential-world.ts'

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

async function open (size: number, schema: string[], tables: string[]): Promise<World> {
  world = await createWorld({ size, schema, tables, sortSites: true })
  return world
}

describe('differential: collated columns replicate byte-for-byte changes', () => {
  for (const [coll, from, to] of [['NOCASE', 'a', 'A'], ['RTRIM', 'a', 'a  ']] as const) {
    test(`COLLATE ${coll}: '${from}' → '${to}'`, async () => {
      const w = await open(2, [`CREATE TABLE c (id INTEGER PRIMARY KEY NOT NULL, v TEXT COLLATE ${coll})`], ['c'])
      await w.write(0, `INSERT INTO c VALUES (1, '${from}')`)
      await w.syncAll()
      const tx = await w.write(0, `UPDATE c SET v = '${to}' WHERE id = 1`)
      expect(tx.patina.length, 'the update produced a version').toBeGreaterThan(0)
      await w.syncAll()
      await w.checkConverged()
      expect(JSON.stringify(patinaContents(w.stores[1]!, 'c')), 'the peer has the new bytes').toContain(JSON.stringify(to).slice(1, -1))
    })
  }
})

describe('differential: a STRICT table\'s ANY column keeps each value\'s storage class', () => {
  test('REAL 1.0, TEXT \'12\', INTEGER 5 and a BLOB arrive as they were written, and a class change replicates', async () => {
    const w = await open(2, ['CREATE TABLE s (id INTEGER PRIMARY KEY NOT NULL, v ANY) STRICT'], ['s'])
    await w.write(0, "INSERT INTO s VALUES (1, 1.0), (2, '12'), (3, 5), (4, x'01')")
    await w.syncAll()
    await w.checkConverged('after insert')
    const tx = await w.write(0, 'UPDATE s SET v = 1 WHERE id = 1')
    expect(tx.patina.length, 'REAL 1.0 → INTEGER 1 is a change').toBeGreaterThan(0)
    await w.syncAll()
    await w.checkConverged('after the class change')
    expect([...w.stores[1]!.read('SELECT typeof(v) FROM s ORDER BY id').rows]).toEqual([['integer'], ['text'], ['integer'], ['blob']])
  })
})

describe('differential: key shapes', () => {
  test('INTEGER PRIMARY KEY DESC is not a rowid alias: text and real keys replicate', async () => {
    const w = await open(2, ['CREATE TABLE d (id INTEGER PRIMARY KEY DESC NOT NULL, v)'], ['d'])
    await w.write(0, "INSERT INTO d VALUES (1, 'one')")
    await w.write(1, "INSERT INTO d VALUES ('abc', 'txt'), (2.5, 'real')")
    await w.syncAll()
    await w.checkConverged()
    expect(patinaContents(w.stores[0]!, 'd')).toHaveLength(3)
  })
})

describe('differential: sentinels implied by a fresh insert or a resurrection', () => {
  const T = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b)']

  test('UPDATE OR REPLACE moving a key onto a live row keeps that row\'s life: concurrent edits survive', async () => {
    const w = await open(2, T, ['t'])
    await w.write(0, "INSERT INTO t VALUES (1, 'one', 'b1'), (2, 'two', 'b2')")
    await w.syncAll()
    await w.write(0, 'UPDATE OR REPLACE t SET id = 2 WHERE id = 1')
    await w.write(1, "UPDATE t SET a = 'concurrent', b = 'c2' WHERE id = 2")
    await w.write(1, "UPDATE t SET a = 'concurrent2' WHERE id = 2")
    await w.syncAll()
    for (let i = 0; i < 2; i++) expect(patinaContents(w.stores[i]!, 't'), `replica ${i}`).toEqual(await w.oracles[i]!.selectAll('t'))
    expect(await w.oracles[0]!.selectAll('t')).toEqual(await w.oracles[1]!.selectAll('t'))
  })

  test('REPLACE of a row a column change resurrected starts a new life whatever order versions came in', async () => {
    const w = await open(3, T, ['t'])
    await w.write(0, "INSERT INTO t VALUES (1, 'a', 'b')")
    await w.syncAll()
    const del = await w.write(0, 'DELETE FROM t WHERE id = 1')
    const ins = await w.write(0, "INSERT INTO t VALUES (1, 'a2', 'b2')")
    const upd = await w.write(0, "UPDATE t SET b = 'b3' WHERE id = 1")
    // replica 2 sees only the column change (resurrected, sentinel implied); replica 1 sees all
    await w.deliver(upd, 2)
    for (const tx of [del, ins, upd]) await w.deliver(tx, 1)
    await w.write(2, "INSERT OR REPLACE INTO t VALUES (1, 'rep', 'rep')")
    await w.write(1, "UPDATE t SET a = 'e1' WHERE id = 1")
    await w.write(1, "UPDATE t SET a = 'e2' WHERE id = 1")
    await w.syncAll()
    for (let i = 0; i < 3; i++) expect(patinaContents(w.stores[i]!, 't'), `replica ${i}`).toEqual(await w.oracles[i]!.selectAll('t'))
    expect(patinaContents(w.stores[0]!, 't')).toEqual(patinaContents(w.stores[1]!, 't'))
  })
})

describe('a key moved onto a live row overwrites its cells with a higher col_version', () => {
  for (const [schema, ins, move] of [
    ['CREATE TABLE s (k TEXT PRIMARY KEY NOT NULL, v)', ["INSERT INTO s VALUES ('p', NULL)", "INSERT INTO s VALUES ('r', NULL)", "UPDATE s SET v = 'b' WHERE k = 'p'"], "UPDATE OR REPLACE s SET k = 'p' WHERE k = 'r'"],
    ['CREATE TABLE s (k INTEGER PRIMARY KEY NOT NULL, v)', ['INSERT INTO s VALUES (1, NULL)', 'INSERT INTO s VALUES (2, NULL)', "UPDATE s SET v = 'b' WHERE k = 1"], 'UPDATE OR REPLACE s SET k = 1 WHERE k = 2'],
    ['CREATE TABLE s (a INTEGER NOT NULL, k TEXT NOT NULL, v, PRIMARY KEY (a, k))', ["INSERT INTO s VALUES (1, 'p', NULL)", "INSERT INTO s VALUES (1, 'r', NULL)", "UPDATE s SET v = 'b' WHERE k = 'p'"], "UPDATE OR REPLACE s SET k = 'p' WHERE k = 'r'"]
  ] as const) {
    test(schema, () => {
      const [a, b] = stores(2, schema)
      try {
        // the overwritten cell was at col_version 2, the moved row's at 1: the move must not tie
        for (const sql of [...ins, move]) for (const cs of a!.transaction([{ sql }]).changesets) b!.apply(cs)
        syncAll([a!, b!])
        expect(rows(b!, 's')).toEqual(rows(a!, 's'))
        expect(changesView(b!)).toEqual(changesView(a!))
        expect(rows(a!, 's').map(r => r[r.length - 1])).toEqual([null])
      } finally { a!.close(); b!.close() }
    })
  }
})

describe('CRR rules at the edges', () => {
  test('a collated primary key is refused with its rule', () => {
    const s = openStore({ path: ':memory:' })
    try {
      for (const sql of ['CREATE TABLE k (k TEXT PRIMARY KEY NOT NULL COLLATE NOCASE, v)', 'CREATE TABLE k (a INTEGER NOT NULL, b TEXT NOT NULL COLLATE RTRIM, v, PRIMARY KEY (a, b))']) {
        let err: unknown
        try { s.applySchema(sql) } catch (e) { err = e }
        expect(err).toBeInstanceOf(SchemaChangeError)
        expect((err as SchemaChangeError).rule).toBe('primary-key-collation')
        expect((err as Error).message).toMatch(/COLLATE/)
      }
      // a collated non-key column is fine, and so is an explicit BINARY key
      s.applySchema('CREATE TABLE ok (k TEXT PRIMARY KEY NOT NULL COLLATE BINARY, v TEXT COLLATE NOCASE)')
    } finally { s.close() }
  })

  test('column names the clock table uses are refused with their rule', () => {
    const s = openStore({ path: ':memory:' })
    try {
      for (const sql of ['CREATE TABLE x (__cl INTEGER PRIMARY KEY NOT NULL, a)', 'CREATE TABLE x (a__v TEXT PRIMARY KEY NOT NULL, a)', 'CREATE TABLE x (id INTEGER PRIMARY KEY NOT NULL, a, "A__T")']) {
        let err: unknown
        try { s.applySchema(sql) } catch (e) { err = e }
        expect(err, sql).toBeInstanceOf(SchemaChangeError)
        expect((err as SchemaChangeError).rule).toBe('reserved-column-name')
      }
      s.applySchema('CREATE TABLE x (id INTEGER PRIMARY KEY NOT NULL, a__v, b)')
    } finally { s.close() }
  })
})

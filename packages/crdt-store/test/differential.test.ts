/**
 * Differential tests: the same writes on the real cr-sqlite (WASM build, the oracle) and on Patina
 * stores with the same site ids, then the merged table contents and per-cell winners compared.
 * See test/oracle/differential-world.ts for what "the same" means where Patina deliberately differs
 * (merge-equal-values tie-break by site id).
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, test } from 'vitest'
import { openStore } from '../src/index.ts'
import { createOracleDb } from './oracle/crsqlite-oracle.ts'
import { patinaCells, patinaContents } from './oracle/differential-world.ts'
import { type Tx, type World, createWorld } from './oracle/differential-world.ts'
import { type Typed, NULL, blob, int, real, sqlLiteral, text } from './oracle/typed-value.ts'

const SCHEMA = [
  'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b, c)',
  'CREATE TABLE typed (id INTEGER PRIMARY KEY NOT NULL, i INTEGER, r REAL, s TEXT NOT NULL DEFAULT \'d\', n NUMERIC)',
  'CREATE TABLE tags (k TEXT PRIMARY KEY NOT NULL)',
  'CREATE TABLE m (x INTEGER NOT NULL, y TEXT NOT NULL, v, PRIMARY KEY (x, y))'
]
const TABLES = ['t', 'typed', 'tags', 'm']

/** Values chosen to hit every branch of cr-sqlite's value order. */
const DUEL_VALUES: readonly Typed[] = [
  NULL,
  int(0), int(1), int(-1), int(2), int(9007199254740993n), int(-(2n ** 63n)), int(2n ** 63n - 1n),
  real(0.5), real(1), real(2), real(-2.25), real(1e300),
  text(''), text('a'), text('ab'), text('b'), text('1'), text('é'),
  // U+E000 sorts after U+1F600 in UTF-16 code units but before it in UTF-8 bytes.
  text('\uE000'), text('\u{1F600}'),
  blob([]), blob([0]), blob([0, 1]), blob([0xff])
]

let world: World | undefined
afterEach(async () => {
  await world?.close()
  world = undefined
})

async function open (size: number, chunkBytes?: number): Promise<World> {
  world = await createWorld({ size, schema: SCHEMA, tables: TABLES, sortSites: true, ...(chunkBytes !== undefined ? { chunkBytes } : {}) })
  return world
}

describe('differential: value duels (equal col_version and cl)', () => {
  test('every ordered pair of values on an untyped column', async () => {
    const w = await open(2)
    const rowsA: string[] = []
    const rowsB: string[] = []
    let id = 0
    for (const va of DUEL_VALUES) {
      for (const vb of DUEL_VALUES) {
        id++
        rowsA.push(`(${id}, ${sqlLiteral(va)})`)
        rowsB.push(`(${id}, ${sqlLiteral(vb)})`)
      }
    }
    await w.write(0, `INSERT INTO t (id, a) VALUES ${rowsA.join(', ')}`)
    await w.write(1, `INSERT INTO t (id, a) VALUES ${rowsB.join(', ')}`)
    await w.check(0, 'before sync')
    await w.syncAll()
    await w.checkConverged('after sync')
  })

  test('typed columns convert by affinity before the duel', async () => {
    const w = await open(2)
    const vals = [int(1), real(1), real(1.5), text('12'), text('1.5'), text('x'), blob([1]), NULL]
    const rowsA: string[] = []
    const rowsB: string[] = []
    let id = 0
    for (const va of vals) {
      for (const vb of vals) {
        id++
        rowsA.push(`(${id}, ${sqlLiteral(va)}, ${sqlLiteral(va)}, ${sqlLiteral(va.type === 'null' ? text('') : va)}, ${sqlLiteral(va)})`)
        rowsB.push(`(${id}, ${sqlLiteral(vb)}, ${sqlLiteral(vb)}, ${sqlLiteral(vb.type === 'null' ? text('') : vb)}, ${sqlLiteral(vb)})`)
      }
    }
    await w.write(0, `INSERT INTO typed (id, i, r, s, n) VALUES ${rowsA.join(', ')}`)
    await w.write(1, `INSERT INTO typed (id, i, r, s, n) VALUES ${rowsB.join(', ')}`)
    await w.syncAll()
    await w.checkConverged()
  })

  test('concurrent updates of an already shared row (col_version 2 on both sides)', async () => {
    const w = await open(3)
    await w.write(0, 'INSERT INTO t (id, a, b, c) VALUES (1, 1, 1, 1), (2, 1, 1, 1), (3, 1, 1, 1)')
    await w.syncAll()
    await w.write(0, "UPDATE t SET a = 'x', b = 5 WHERE id = 1")
    await w.write(1, "UPDATE t SET a = 'y', b = 5 WHERE id = 1")
    await w.write(2, "UPDATE t SET a = 'x', b = 4.5 WHERE id = 1")
    await w.write(1, 'UPDATE t SET c = NULL WHERE id = 2')
    await w.write(2, "UPDATE t SET c = x'00' WHERE id = 2")
    await w.syncAll()
    await w.checkConverged()
  })
})

describe('differential: causal length', () => {
  test('delete beats a concurrent update, even an update made several times', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO t (id, a, b) VALUES (1, 'a', 'b'), (2, 'a', 'b')")
    await w.syncAll()
    await w.write(0, 'DELETE FROM t WHERE id IN (1, 2)')
    await w.write(1, "UPDATE t SET a = 'z' WHERE id = 1")
    for (let k = 0; k < 5; k++) await w.write(2, `UPDATE t SET b = ${k} WHERE id = 2`)
    await w.sync(1, 2)
    await w.check(2, 'partial')
    await w.syncAll()
    await w.checkConverged()
  })

  test('delete + re-insert beats a concurrent update of the old incarnation', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO t (id, a, b, c) VALUES (1, 'a', 'b', 'c')")
    await w.syncAll()
    await w.write(0, 'DELETE FROM t WHERE id = 1')
    await w.write(0, "INSERT INTO t (id, a) VALUES (1, 'new')")
    for (let k = 0; k < 4; k++) await w.write(1, `UPDATE t SET a = 'old${k}', b = ${k} WHERE id = 1`)
    await w.sync(0, 1)
    await w.check(1, 'one way')
    await w.syncAll()
    await w.checkConverged()
  })

  test('concurrent deletes of the same row (equal causal length) and concurrent re-inserts', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO t (id, a) VALUES (1, 'a'), (2, 'b')")
    await w.syncAll()
    await w.write(0, 'DELETE FROM t WHERE id = 1')
    await w.write(1, 'DELETE FROM t WHERE id = 1')
    await w.write(0, 'DELETE FROM t WHERE id = 2')
    await w.write(2, 'DELETE FROM t WHERE id = 2')
    await w.syncAll()
    await w.checkConverged('deleted')
    await w.write(1, "INSERT INTO t (id, a, b) VALUES (1, 'one', 1)")
    await w.write(2, "INSERT INTO t (id, a, b) VALUES (1, 'two', 1)")
    await w.write(0, "INSERT INTO t (id, a, b) VALUES (2, 'zero', 0)")
    await w.syncAll()
    await w.checkConverged('re-inserted')
  })

  test('resurrection reaches a replica that never saw the delete', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO t (id, a, b, c) VALUES (1, 'a', 'b', 'c')")
    await w.syncAll()
    await w.write(0, 'DELETE FROM t WHERE id = 1')
    await w.sync(0, 1)
    await w.write(1, "INSERT INTO t (id, b) VALUES (1, 'reborn')")
    // Replica 2 still has the first incarnation and keeps editing it.
    await w.write(2, "UPDATE t SET a = 'stale', c = 'stale' WHERE id = 1")
    await w.write(2, "UPDATE t SET a = 'stale2' WHERE id = 1")
    await w.sync(1, 2)
    await w.check(2, 'resurrected on 2')
    await w.syncAll()
    await w.checkConverged()
  })

  test('delete / re-insert cycles on several replicas', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO t (id, a) VALUES (1, 'v0')")
    await w.syncAll()
    for (let k = 0; k < 3; k++) {
      await w.write(k, 'DELETE FROM t WHERE id = 1')
      await w.write(k, `INSERT INTO t (id, a, b) VALUES (1, 'v${k}', ${k})`)
      await w.write((k + 1) % 3, `DELETE FROM t WHERE id = 1`)
    }
    await w.syncAll()
    await w.checkConverged()
  })

  test('INSERT OR REPLACE of a live row', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO t (id, a, b) VALUES (1, 'a', 'b'), (2, 'a', 'b')")
    await w.syncAll()
    await w.write(0, "INSERT OR REPLACE INTO t (id, a, b) VALUES (1, 'a', 'r')")
    await w.write(1, "UPDATE t SET a = 'u' WHERE id = 1")
    await w.write(1, "INSERT OR REPLACE INTO tags (k) VALUES ('x')")
    await w.write(0, "INSERT OR REPLACE INTO tags (k) VALUES ('x')")
    await w.syncAll()
    await w.checkConverged()
  })
})

describe('differential: tables and columns', () => {
  test('pk-only table: inserts, deletes and re-inserts race', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO tags (k) VALUES ('a'), ('b'), ('c')")
    await w.write(1, "INSERT INTO tags (k) VALUES ('b'), ('d')")
    await w.syncAll()
    await w.write(0, "DELETE FROM tags WHERE k IN ('a', 'b')")
    await w.write(1, "DELETE FROM tags WHERE k = 'b'")
    await w.write(1, "INSERT INTO tags (k) VALUES ('b')")
    await w.write(2, "DELETE FROM tags WHERE k = 'd'")
    await w.write(2, "INSERT INTO tags (k) VALUES ('d')")
    await w.write(2, "DELETE FROM tags WHERE k = 'd'")
    await w.syncAll()
    await w.checkConverged()
  })

  test('composite primary keys', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO m (x, y, v) VALUES (1, 'a', 1), (1, 'b', 2), (-5, '', 3), (2, 'é', 4)")
    await w.write(1, "INSERT INTO m (x, y, v) VALUES (1, 'a', 10), (9007199254740993, 'big', 5)")
    await w.syncAll()
    await w.write(1, "DELETE FROM m WHERE x = 1 AND y = 'b'")
    await w.write(0, "UPDATE m SET v = 'x' WHERE y = 'é'")
    await w.syncAll()
    await w.checkConverged()
  })

  test('col_version races: more edits beat a bigger value', async () => {
    const w = await open(2)
    await w.write(0, 'INSERT INTO t (id, a) VALUES (1, 0)')
    await w.syncAll()
    for (let k = 1; k <= 3; k++) await w.write(0, `UPDATE t SET a = ${k} WHERE id = 1`)
    await w.write(1, 'UPDATE t SET a = 1000 WHERE id = 1')
    // Setting the same value again is not a change (no col_version bump).
    await w.write(1, 'UPDATE t SET a = 1000 WHERE id = 1')
    await w.syncAll()
    await w.checkConverged()
  })

  test('different columns edited on different replicas all survive', async () => {
    const w = await open(3)
    await w.write(0, "INSERT INTO t (id, a, b, c) VALUES (1, 'a', 'b', 'c')")
    await w.syncAll()
    await w.write(0, "UPDATE t SET a = 'A' WHERE id = 1")
    await w.write(1, "UPDATE t SET b = 'B' WHERE id = 1")
    await w.write(2, "UPDATE t SET c = 'C' WHERE id = 1")
    await w.write(2, "UPDATE t SET c = 'C2', a = 'A2' WHERE id = 1")
    await w.syncAll()
    await w.checkConverged()
  })

  test('broadcast path: transactions delivered in reverse order and twice', async () => {
    const w = await open(3, 256)
    const txs: Tx[] = []
    txs.push(await w.write(0, "INSERT INTO t (id, a, b) VALUES (1, 'a', 'b'), (2, 'a', 'b'), (3, 'a', 'b')"))
    txs.push(await w.write(0, "UPDATE t SET a = 'a2' WHERE id = 1"))
    txs.push(await w.write(0, 'DELETE FROM t WHERE id = 2'))
    txs.push(await w.write(0, "INSERT INTO t (id, c) VALUES (2, 'again')"))
    txs.push(await w.write(1, "INSERT INTO t (id, a, b) VALUES (3, 'z', 'z')"))
    txs.push(await w.write(1, "WITH RECURSIVE s(v) AS (SELECT 10 UNION ALL SELECT v + 1 FROM s WHERE v < 40) INSERT INTO t (id, a) SELECT v, printf('%0200d', v) FROM s"))
    for (const to of [0, 1, 2]) {
      for (const tx of [...txs].reverse()) await w.deliver(tx, to)
      for (const tx of txs) await w.deliver(tx, to)
    }
    await w.checkConverged()
    expect(txs[5]?.patina.length ?? 0, 'a 31 x 200-byte insert must be chunked at chunkBytes 256').toBeGreaterThan(1)
  })
})

describe('differential: existing rows become CRR rows', () => {
  test('a pre-existing table is backfilled like crsql_as_crr, and its rows replicate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-backfill-'))
    const create = "CREATE TABLE old (id INTEGER PRIMARY KEY NOT NULL, name TEXT, n, d TEXT NOT NULL DEFAULT 'z')"
    const createTags = 'CREATE TABLE oldtags (k TEXT PRIMARY KEY NOT NULL)'
    const fill = [
      "INSERT INTO old (id, name, n) VALUES (1, 'one', 1), (2, NULL, 2.5), (3, 'three', NULL)",
      "INSERT INTO old (id, name, n, d) VALUES (4, x'00', -7, 'set')",
      "INSERT INTO oldtags (k) VALUES ('p'), ('q')"
    ]
    const path = join(dir, 'pre.db')
    const raw = new Database(path)
    raw.exec(create)
    raw.exec(createTags)
    for (const sql of fill) raw.exec(sql)
    raw.close()
    const a = openStore({ path })
    const b = openStore({ path: ':memory:' })
    const oa = await createOracleDb({ siteId: a.siteId })
    const ob = await createOracleDb({ siteId: b.siteId })
    try {
      a.applySchema([create, createTags])
      b.applySchema([create, createTags])
      await oa.exec(create)
      await oa.exec(createTags)
      for (const sql of fill) await oa.exec(sql)
      await oa.exec("SELECT crsql_as_crr('old'); SELECT crsql_as_crr('oldtags');")
      await ob.exec(`${create}; ${createTags}; SELECT crsql_as_crr('old'); SELECT crsql_as_crr('oldtags');`)
      const noSite = (c: { table: string; pk: string; cid: string; val: string; colVersion: bigint; cl: bigint; site: string }): unknown => ({ ...c, site: undefined })
      expect(patinaCells(a).map(noSite), 'backfilled cells').toEqual((await oa.cells()).map(noSite))
      expect(patinaCells(a).every(c => c.site === Buffer.from(a.siteId).toString('hex'))).toBe(true)
      // Replicate: the backfill is an ordinary version of a's actor.
      for (const cs of a.serve(b.needs(a.summary()))) b.apply(cs)
      await ob.merge(await oa.changesSince(0))
      for (const t of ['old', 'oldtags']) expect(patinaContents(b, t), t).toEqual(await ob.selectAll(t))
      expect(patinaCells(b)).toEqual(patinaCells(a))
      expect(patinaCells(b).map(noSite)).toEqual((await ob.cells()).map(noSite))
      // Applying the schema again does not backfill twice.
      expect(a.applySchema([create, createTags]).unchanged).toBe(true)
      expect(a.syncStatus().find(x => x.actor === Buffer.from(a.siteId).toString('hex'))?.head).toBe(1)
    } finally {
      a.close()
      b.close()
      await oa.close()
      await ob.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('differential: adding a column', () => {
  test('existing rows get no clock for the new column; later writes to it merge like cr-sqlite', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO t (id, a) VALUES (1, 'a1'), (2, 'a2')")
    await w.write(1, "INSERT INTO t (id, a) VALUES (3, 'a3')")
    await w.syncAll()
    for (let i = 0; i < 2; i++) {
      w.stores[i]!.applySchema([...SCHEMA.map(sql => sql.startsWith('CREATE TABLE t ') ? "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b, c, d TEXT DEFAULT 'dflt')" : sql)])
      await w.oracles[i]!.exec("SELECT crsql_begin_alter('t'); ALTER TABLE t ADD COLUMN d TEXT DEFAULT 'dflt'; SELECT crsql_commit_alter('t');")
    }
    await w.checkConverged('after alter')
    await w.write(0, "UPDATE t SET d = 'x' WHERE id = 1")
    await w.write(1, "UPDATE t SET a = 'b1' WHERE id = 1")
    await w.write(1, "UPDATE t SET d = 'y' WHERE id = 2")
    await w.write(1, "INSERT INTO t (id, a) VALUES (4, 'a4')")
    await w.write(0, "UPDATE t SET d = 'z' WHERE id = 2")
    await w.syncAll()
    const rows = [...w.stores[0]!.read('SELECT id, d FROM t ORDER BY id').rows]
    expect(rows.length).toBe(4)
    await w.checkConverged('after writes')
  })
})

describe('differential: unusual primary keys', () => {
  test('BLOB, REAL, negative and large INTEGER keys pack and merge like cr-sqlite', async () => {
    const schema = [
      'CREATE TABLE bk (k BLOB PRIMARY KEY NOT NULL, v)',
      'CREATE TABLE rk (k REAL PRIMARY KEY NOT NULL, v)',
      'CREATE TABLE ik (k INTEGER NOT NULL, j TEXT NOT NULL, v, PRIMARY KEY (j, k))'
    ]
    world = await createWorld({ size: 2, schema, tables: ['bk', 'rk', 'ik'], sortSites: true })
    const w = world
    await w.write(0, "INSERT INTO bk (k, v) VALUES (x'', 1), (x'00', 2), (x'ff00', 3)")
    await w.write(1, "INSERT INTO bk (k, v) VALUES (x'00', 'b'), (x'0000', 'c')")
    await w.write(0, 'INSERT INTO rk (k, v) VALUES (0.5, 1), (-2.25, 2), (1e300, 3), (3.0, 4)')
    await w.write(1, "INSERT INTO rk (k, v) VALUES (0.5, 'x'), (3.0, 'y')")
    await w.write(0, "INSERT INTO ik (k, j, v) VALUES (-1, 'a', 1), (-9223372036854775807 - 1, '', 2), (9223372036854775807, 'z', 3), (256, 'é', 4)")
    await w.write(1, "INSERT INTO ik (k, j, v) VALUES (-1, 'a', 'other'), (128, 'é', 5)")
    await w.syncAll()
    await w.checkConverged('inserted')
    await w.write(1, "DELETE FROM bk WHERE k = x''")
    await w.write(0, 'UPDATE rk SET v = NULL WHERE k = 3.0')
    await w.write(1, "DELETE FROM ik WHERE k = -1 AND j = 'a'")
    await w.syncAll()
    await w.checkConverged('edited')
  })
})

describe('differential: primary-key changes (contents only)', () => {
  // Patina takes the fork's fix (moved cells get a new col_version and the new version), so clocks
  // differ from upstream by design; the replicated table contents must still match a full sync.
  test('a key change reaches a replica that synced before it (upstream loses it under delta sync)', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO t (id, a, b) VALUES (1, 'one', 1), (2, 'two', 2), (5, 'five', 5)")
    await w.write(0, "INSERT INTO tags (k) VALUES ('x'), ('y')")
    await w.syncAll()
    await w.write(0, ['DELETE FROM t WHERE id = 2', 'UPDATE t SET id = 2 WHERE id = 1'])
    await w.write(0, 'UPDATE t SET id = 7 WHERE id = 5')
    await w.write(0, "UPDATE tags SET k = 'z' WHERE k = 'x'")
    // Patina: delta sync (only what 1 lacks). Oracle: full state, which upstream gets right.
    await w.sync(0, 1)
    for (const t of ['t', 'tags']) {
      const want = await w.oracles[0]!.selectAll(t)
      expect(patinaContents(w.stores[1]!, t), t).toEqual(want)
      expect(await w.oracles[1]!.selectAll(t), `oracle ${t}`).toEqual(want)
      expect(patinaContents(w.stores[0]!, t), t).toEqual(want)
    }
    expect(patinaContents(w.stores[1]!, 't')).toEqual([['i:2', 't:"one"', 'i:1', 'n'], ['i:7', 't:"five"', 'i:5', 'n']])
  })
})

describe('differential: STRICT and WITHOUT ROWID tables', () => {
  test('typed STRICT columns and WITHOUT ROWID keys merge like cr-sqlite', async () => {
    const schema = [
      'CREATE TABLE st (id INTEGER PRIMARY KEY NOT NULL, i INTEGER, r REAL, t TEXT, b BLOB, a ANY) STRICT',
      'CREATE TABLE wr (k TEXT NOT NULL PRIMARY KEY, n INTEGER, v) WITHOUT ROWID',
      'CREATE TABLE both_ (k1 INTEGER NOT NULL, k2 TEXT NOT NULL, v ANY, PRIMARY KEY (k1, k2)) STRICT, WITHOUT ROWID'
    ]
    world = await createWorld({ size: 3, schema, tables: ['st', 'wr', 'both_'], sortSites: true })
    const w = world
    await w.write(0, "INSERT INTO st (id, i, r, t, b, a) VALUES (1, 1, 1.5, 'x', x'00', 2), (2, -3, 2, 'y', NULL, 'any')")
    await w.write(1, "INSERT INTO st (id, i, r, t, b, a) VALUES (1, 2, 1.25, 'w', x'01', 2.0)")
    await w.write(2, "INSERT INTO wr (k, n, v) VALUES ('a', 1, 1), ('b', 2, x'ff')")
    await w.write(0, "INSERT INTO wr (k, n, v) VALUES ('a', 5, 'five')")
    await w.write(1, "INSERT INTO both_ (k1, k2, v) VALUES (1, 'a', 1), (2, 'b', 'two')")
    await w.write(2, "INSERT INTO both_ (k1, k2, v) VALUES (1, 'a', 1.0)")
    await w.syncAll()
    await w.checkConverged('inserted')
    await w.write(0, "UPDATE st SET a = x'0102', r = 3 WHERE id = 1")
    await w.write(2, 'DELETE FROM st WHERE id = 2')
    await w.write(1, "DELETE FROM wr WHERE k = 'a'")
    await w.write(0, "UPDATE wr SET n = n + 1 WHERE k = 'a'")
    await w.write(1, "UPDATE both_ SET v = NULL WHERE k1 = 2")
    await w.syncAll()
    await w.checkConverged('edited')
  })
})

describe('differential: what counts as a change', () => {
  test('storage-class changes with equal numeric value bump col_version; identical values do not', async () => {
    const w = await open(2)
    await w.write(0, "INSERT INTO t (id, a, b, c) VALUES (1, 3, '3', x'33'), (2, 1.0, 1, NULL)")
    await w.syncAll()
    await w.write(0, 'UPDATE t SET a = 3.0 WHERE id = 1')
    await w.write(0, "UPDATE t SET b = 3 WHERE id = 1")
    await w.write(0, "UPDATE t SET c = '3' WHERE id = 1")
    await w.write(0, 'UPDATE t SET a = 1.0, b = 1, c = NULL WHERE id = 2')
    await w.write(1, 'UPDATE t SET a = 4 WHERE id = 1')
    await w.write(1, "UPDATE t SET a = a, b = b WHERE id = 2")
    await w.syncAll()
    await w.checkConverged()
  })
})

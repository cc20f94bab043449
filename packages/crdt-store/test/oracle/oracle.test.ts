import { describe, expect, test } from 'vitest'
import { createOracleDb } from './crsqlite-oracle.ts'
import { int, real, text } from './typed-value.ts'

const SITE_A = Uint8Array.from({ length: 16 }, (_, i) => 0xa0 + i)
const SITE_B = Uint8Array.from({ length: 16 }, (_, i) => 0xb0 + i)

describe('crsqlite oracle', () => {
  test('captures local writes as crsql_changes rows with the chosen site id', async () => {
    const db = await createOracleDb({ siteId: SITE_A })
    await db.exec("CREATE TABLE foo (a INTEGER PRIMARY KEY NOT NULL, b, c); SELECT crsql_as_crr('foo');")
    await db.exec('INSERT INTO foo VALUES (1, 2, 3.0)')
    const changes = await db.changesSince(0)
    expect(changes.map(c => [c.table, Buffer.from(c.pk).toString('hex'), c.cid, c.val, c.colVersion, c.cl])).toEqual([
      ['foo', '010901', 'b', int(2), 1n, 1n],
      ['foo', '010901', 'c', real(3), 1n, 1n]
    ])
    expect(changes.every(c => Buffer.from(c.siteId).equals(Buffer.from(SITE_A)))).toBe(true)
    await db.close()
  })

  test('merges another replica and keeps storage classes', async () => {
    const a = await createOracleDb({ siteId: SITE_A })
    const b = await createOracleDb({ siteId: SITE_B })
    for (const db of [a, b]) await db.exec("CREATE TABLE foo (a INTEGER PRIMARY KEY NOT NULL, b, c); SELECT crsql_as_crr('foo');")
    await a.exec("INSERT INTO foo VALUES (1, 'x', 1.0)")
    await b.exec('INSERT INTO foo VALUES (1, 7, 2)')
    await b.merge(await a.changesSince(0))
    await a.merge(await b.changesSince(0))
    // INTEGER beats TEXT; INTEGER 2 beats REAL 1.0.
    expect(await a.selectAll('foo')).toEqual([['i:1', 'i:7', 'i:2']])
    expect(await b.selectAll('foo')).toEqual(await a.selectAll('foo'))
    const cells = await a.cells()
    expect(cells.map(c => [c.cid, c.val, c.site])).toEqual([
      ['b', 'i:7', Buffer.from(SITE_B).toString('hex')],
      ['c', 'i:2', Buffer.from(SITE_B).toString('hex')]
    ])
    expect(await a.query('SELECT typeof(c) FROM foo')).toEqual([[text('integer')]])
    await a.close()
    await b.close()
  })

  test('delete beats a concurrent update and re-insert resurrects (causal length)', async () => {
    const a = await createOracleDb({ siteId: SITE_A })
    const b = await createOracleDb({ siteId: SITE_B })
    for (const db of [a, b]) await db.exec("CREATE TABLE foo (a INTEGER PRIMARY KEY NOT NULL, b); SELECT crsql_as_crr('foo');")
    await a.exec('INSERT INTO foo VALUES (1, 1)')
    await b.merge(await a.changesSince(0))
    await a.exec('DELETE FROM foo WHERE a = 1')
    await b.exec('UPDATE foo SET b = 99 WHERE a = 1')
    await b.merge(await a.changesSince(0))
    await a.merge(await b.changesSince(0))
    expect(await a.selectAll('foo')).toEqual([])
    expect(await b.selectAll('foo')).toEqual([])
    await b.exec('INSERT INTO foo VALUES (1, 5)')
    await a.merge(await b.changesSince(0))
    expect(await a.selectAll('foo')).toEqual([['i:1', 'i:5']])
    const sentinel = (await a.cells()).find(c => c.cid === '-1')
    expect(sentinel?.cl).toBe(3n)
    await a.close()
    await b.close()
  })
})

describe('crsqlite oracle binding', () => {
  test('binds an empty BLOB as a BLOB, not NULL', async () => {
    const db = await createOracleDb()
    expect(await db.query('SELECT typeof(?), length(?)', [{ type: 'blob', value: new Uint8Array(0) }, { type: 'blob', value: new Uint8Array(0) }])).toEqual([[text('blob'), int(0)]])
    await db.close()
  })
})

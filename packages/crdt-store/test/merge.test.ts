import { describe, expect, it } from 'vitest'
import { openStore, packPk } from '../src/index.ts'
import type { Change, Changeset, CrdtStore, SqlValue } from '../src/index.ts'
import { changesView, pull, rows, stores, syncAll } from './helpers.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a ANY, b TEXT)'

function actor (byte: number): Uint8Array { return new Uint8Array(16).fill(byte) }

function cs (from: Uint8Array, version: number, changes: Omit<Change, 'siteId' | 'dbVersion' | 'seq'>[]): Changeset {
  const full = changes.map((c, i) => ({ ...c, siteId: from, dbVersion: version, seq: i }))
  return { actor: from, version, seqs: [0, Math.max(0, full.length - 1)], lastSeq: Math.max(0, full.length - 1), ts: 1n << 40n, changes: full }
}

function cell (id: number, cid: string, val: SqlValue, colVersion: number, cl = 1): Omit<Change, 'siteId' | 'dbVersion' | 'seq'> {
  return { table: 't', pk: packPk([id]), cid, val, colVersion, cl }
}

function fresh (): CrdtStore {
  const s = openStore({ path: ':memory:' })
  s.applySchema(schema)
  return s
}

describe('merge rules', () => {
  it('higher col_version wins, lower loses', () => {
    const s = fresh()
    s.apply(cs(actor(1), 1, [cell(1, 'a', 'x', 2)]))
    expect(s.apply(cs(actor(2), 1, [cell(1, 'a', 'y', 1)])).status).toBe('cleared')
    expect(rows(s, 't')).toEqual([[1, 'x', null]])
    expect(s.apply(cs(actor(2), 2, [cell(1, 'a', 'z', 3)]))).toMatchObject({ status: 'applied', changed: 1 })
    expect(rows(s, 't')).toEqual([[1, 'z', null]])
    s.close()
  })
  it('equal col_version: value order INTEGER > REAL > TEXT > BLOB > NULL', () => {
    const order: SqlValue[] = [null, new Uint8Array([1]), 'text', 2.5, 7n]
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const s = fresh()
        s.apply(cs(actor(1), 1, [cell(1, 'a', order[i]!, 1)]))
        s.apply(cs(actor(2), 1, [cell(1, 'a', order[j]!, 1)]))
        const got = [...s.read('SELECT typeof(a) FROM t').rows][0]![0]
        const winner = order[Math.max(i, j)]
        const want = winner === null ? 'null' : winner instanceof Uint8Array ? 'blob' : typeof winner === 'string' ? 'text' : typeof winner === 'number' ? 'real' : 'integer'
        expect(got).toBe(want)
        s.close()
      }
    }
  })
  it('equal col_version and value: the greater site id owns the cell (merge-equal-values)', () => {
    const [x, y] = [fresh(), fresh()]
    for (const s of [x, y]) s.apply(cs(actor(1), 1, [cell(1, 'a', 'same', 1)]))
    x.apply(cs(actor(9), 1, [cell(1, 'a', 'same', 1)]))
    y.apply(cs(actor(9), 1, [cell(1, 'a', 'same', 1)]))
    const owner = (s: CrdtStore): unknown => [...s.read("SELECT hex(site_id) FROM crsql_changes WHERE cid = 'a'").rows][0]![0]
    expect(owner(x)).toBe('09'.repeat(16))
    // the smaller site arriving later does not take it back
    x.apply(cs(actor(2), 1, [cell(1, 'a', 'same', 1)]))
    expect(owner(x)).toBe('09'.repeat(16))
    x.close(); y.close()
  })
  it('causal length: a delete beats column writes of the same life; a higher odd cl resurrects', () => {
    const s = fresh()
    s.apply(cs(actor(1), 1, [cell(1, 'a', 'x', 1), cell(1, 'b', 'y', 1)]))
    s.apply(cs(actor(2), 1, [{ table: 't', pk: packPk([1]), cid: '-1', val: null, colVersion: 2, cl: 2 }]))
    expect(rows(s, 't')).toEqual([])
    expect(s.apply(cs(actor(1), 2, [cell(1, 'a', 'late', 9, 1)])).status).toBe('cleared')
    expect(rows(s, 't')).toEqual([])
    s.apply(cs(actor(3), 1, [cell(1, 'b', 'back', 1, 3)]))
    expect(rows(s, 't')).toEqual([[1, null, 'back']])
    // a column change resurrects with an implied sentinel; the real one comes with its own version
    expect(changesView(s).map(r => (r as unknown[]).slice(2, 5))).toEqual([['b', 'back', 1]])
    expect(changesView(s).map(r => (r as unknown[])[7])).toEqual([3])
    s.close()
  })
  it('rejects a whole version for an unknown table or column; nothing applied', () => {
    const s = fresh()
    const bad1 = cs(actor(1), 1, [cell(1, 'a', 'x', 1), { table: 'nope', pk: packPk([1]), cid: 'a', val: 1n, colVersion: 1, cl: 1 }])
    expect(() => s.apply(bad1)).toThrow(expect.objectContaining({ name: 'UnknownTableError' }))
    const bad2 = cs(actor(1), 1, [cell(1, 'a', 'x', 1), cell(1, 'zzz', 'x', 1)])
    expect(() => s.apply(bad2)).toThrow(expect.objectContaining({ name: 'UnknownColumnError' }))
    const bad3 = cs(actor(1), 1, [cell(1, 'id', 5n, 1)])
    expect(() => s.apply(bad3)).toThrow(expect.objectContaining({ name: 'UnknownColumnError' }))
    expect(rows(s, 't')).toEqual([])
    expect(s.summary().actors.map(a => a.head)).toEqual([])
    expect(() => s.apply({ ...cs(actor(1), 1, []), seqs: [3, 1] })).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
    expect(() => s.apply(cs(actor(1), 1, [{ table: 't', pk: new Uint8Array([1, 7]), cid: 'a', val: null, colVersion: 1, cl: 1 }]))).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
    s.close()
  })
  it('merged writes do not fire local triggers (no local version)', () => {
    const [a, b] = stores(2, schema)
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x', 'y')" }])
    pull(b!, a!)
    expect(b!.summary().actors.find(x => Buffer.from(x.actor).equals(Buffer.from(b!.siteId)))).toBeUndefined()
    expect(b!.transaction([{ sql: "UPDATE t SET b = 'z'" }]).version).toBe(1)
    a!.close(); b!.close()
  })
  it('is idempotent and order-insensitive', () => {
    const [a, b, c] = stores(3, schema)
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'a1', 'x'), (2, 'a2', 'x')" }])
    b!.transaction([{ sql: "INSERT INTO t VALUES (1, 'b1', 'y')" }])
    b!.transaction([{ sql: 'DELETE FROM t WHERE id = 1' }])
    c!.transaction([{ sql: "INSERT INTO t VALUES (2, 'c2', 'z')" }])
    c!.transaction([{ sql: "UPDATE t SET a = 'c2b' WHERE id = 2" }])
    const all: Changeset[] = [...[a!, b!, c!].flatMap(s => [...s.serve({ actors: [{ actor: s.siteId, full: [[1, 5]], partial: [] }] })])]
    const results: unknown[] = []
    for (const perm of [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 0, 4, 1, 3]]) {
      const s = fresh()
      for (const i of [...perm, ...perm]) s.apply(all[i]!)
      results.push(rows(s, 't'))
      s.close()
    }
    expect(results[1]).toEqual(results[0])
    expect(results[2]).toEqual(results[0])
    syncAll([a!, b!, c!])
    expect(rows(a!, 't')).toEqual(results[0])
    expect(changesView(a!)).toEqual(changesView(c!))
    a!.close(); b!.close(); c!.close()
  })
  it('own changesets are ignored, duplicates reported', () => {
    const [a, b] = stores(2, schema)
    const r = a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x', 'y')" }])
    expect(a!.apply(r.changesets[0]!).status).toBe('own')
    expect(b!.apply(r.changesets[0]!).status).toBe('applied')
    expect(b!.apply(r.changesets[0]!).status).toBe('duplicate')
    a!.close(); b!.close()
  })
})

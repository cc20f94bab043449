import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { decodeChangeset, decodeNeeds, decodeSummary, encodeChangeset, encodeNeeds, encodeSummary, openStore } from '../src/index.ts'
import type { Changeset } from '../src/index.ts'
import { hex, pull, rows, stores } from './helpers.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)'
const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
function tmp (): string { const d = mkdtempSync(join(tmpdir(), 'crdt-sync-')); dirs.push(d); return join(d, 'db.sqlite') }

describe('bookkeeping and sync', () => {
  it('records gaps for versions received out of order and fills them', () => {
    const [a, b] = stores(2, schema)
    const v: Changeset[][] = []
    for (let i = 1; i <= 5; i++) v.push(a!.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, 'v' + i] }]).changesets)
    b!.apply(v[0]![0]!)
    b!.apply(v[3]![0]!)
    const st = b!.syncStatus().find(x => x.actor === hex(a!.siteId))!
    expect(st).toMatchObject({ head: 4, gaps: [[2, 3]] })
    expect(b!.gapCount()).toBe(2)
    const needs = b!.needs(a!.summary())
    expect(needs.actors).toEqual([{ actor: a!.siteId, full: [[2, 3], [5, 5]], partial: [] }])
    expect(decodeNeeds(encodeNeeds(needs))).toEqual(needs)
    expect(decodeSummary(encodeSummary(a!.summary()))).toEqual(a!.summary())
    pull(b!, a!)
    expect(b!.gapCount()).toBe(0)
    expect(b!.needs(a!.summary()).actors).toEqual([])
    expect(rows(b!, 't')).toEqual(rows(a!, 't'))
    a!.close(); b!.close()
  })
  it('reports versions whose changes were all overwritten as cleared', () => {
    const [a, b] = stores(2, schema)
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x')" }])
    a!.transaction([{ sql: "UPDATE t SET a = 'y' WHERE id = 1" }])
    const served = [...a!.serve({ actors: [{ actor: a!.siteId, full: [[1, 2]], partial: [] }] })]
    expect(served.map(c => [c.version, c.changes.length, c.seqs])).toEqual([[1, 0, [0, 1]], [2, 1, [0, 0]]])
    expect(b!.apply(served[0]!).status).toBe('cleared')
    expect(b!.apply(served[1]!).status).toBe('applied')
    expect(b!.syncStatus().find(x => x.actor === hex(a!.siteId))).toMatchObject({ head: 2, gaps: [] })
    // a third node learns version 1 as cleared from b, which serves what it has
    const [c] = stores(1, schema)
    pull(c!, b!)
    expect(c!.syncStatus().find(x => x.actor === hex(a!.siteId))).toMatchObject({ head: 2, gaps: [] })
    expect(rows(c!, 't')).toEqual([[1, 'y']])
    a!.close(); b!.close(); c!.close()
  })
  it('buffers partial versions (persisted) and applies them atomically when complete', () => {
    const path = tmp()
    const a = openStore({ path: ':memory:', chunkBytes: 256 })
    a.applySchema(schema)
    const r = a.transaction(tx => { for (let i = 0; i < 60; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'value-' + i]) })
    const chunks = r.changesets
    expect(chunks.length).toBeGreaterThan(4)
    let b = openStore({ path })
    b.applySchema(schema)
    const half = Math.floor(chunks.length / 2)
    for (const c of chunks.slice(0, half).reverse()) expect(b.apply(decodeChangeset(encodeChangeset(c))).status).toBe('buffered')
    expect(b.apply(chunks[0]!).status).toBe('duplicate')
    expect(rows(b, 't')).toEqual([])
    const st = b.syncStatus().find(x => x.actor === hex(a.siteId))!
    expect(st.partials).toEqual([{ version: 1, seqs: [[0, chunks[half - 1]!.seqs[1]]], lastSeq: r.changesets[0]!.lastSeq }])
    expect(b.gapCount()).toBe(1)
    // needs asks only for the missing seqs, even after a restart
    b.close()
    b = openStore({ path })
    const needs = b.needs(a.summary())
    expect(needs.actors[0]!.full).toEqual([])
    expect(needs.actors[0]!.partial).toEqual([{ version: 1, seqs: [[chunks[half]!.seqs[0], chunks[0]!.lastSeq]] }])
    const events: number[] = []
    b.onCommit(ev => events.push(ev.changes.length))
    let last
    for (const c of a.serve(needs)) last = b.apply(c)
    expect(last?.status).toBe('applied')
    expect(events).toEqual([60])
    expect(rows(b, 't')).toEqual(rows(a, 't'))
    expect(b.gapCount()).toBe(0)
    expect(b.syncStatus().find(x => x.actor === hex(a.siteId))).toEqual({ actor: hex(a.siteId), head: 1, gaps: [], partials: [] })
    a.close(); b.close()
  })
  it('serves partially held versions to a third node from the buffer', () => {
    const a = openStore({ path: ':memory:', chunkBytes: 256 })
    a.applySchema(schema)
    const chunks = a.transaction(tx => { for (let i = 0; i < 40; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'value-' + i]) }).changesets
    const [b, c] = stores(2, schema)
    b!.apply(chunks[0]!)
    b!.apply(chunks[2]!)
    pull(c!, b!)
    expect(c!.syncStatus().find(x => x.actor === hex(a.siteId))?.partials[0]?.seqs).toEqual([chunks[0]!.seqs, chunks[2]!.seqs])
    pull(c!, a)
    expect(rows(c!, 't')).toEqual(rows(a, 't'))
    a.close(); b!.close(); c!.close()
  })
  it('replicates a 100k-row transaction as small chunks', () => {
    const a = openStore({ path: ':memory:' })
    const b = openStore({ path: ':memory:' })
    a.applySchema(schema)
    b.applySchema(schema)
    const r = a.transaction(tx => { for (let i = 0; i < 100_000; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'row ' + i]) })
    let biggest = 0
    let n = 0
    for (const c of r.changesets) {
      const bytes = encodeChangeset(c)
      biggest = Math.max(biggest, bytes.length)
      n++
      const res = b.apply(decodeChangeset(bytes))
      expect(res.status).toBe(n === r.changesets.length ? 'applied' : 'buffered')
    }
    expect(n).toBeGreaterThan(100)
    expect(biggest).toBeLessThan(10 * 1024)
    expect([...b.read('SELECT count(*), sum(id) FROM t').rows]).toEqual([[100_000, 4999950000]])
    a.close(); b.close()
  }, 60_000)
  it('a node restored from a backup gets a fresh identity and catches up on its old actor', async () => {
    const path = tmp()
    const a = openStore({ path })
    a.applySchema(schema)
    const [b] = stores(1, schema)
    for (const c of a.transaction([{ sql: "INSERT INTO t VALUES (1, 'one')" }]).changesets) b!.apply(c)
    const old = path + '.old'
    await a.backup(old)
    for (const c of a.transaction([{ sql: "INSERT INTO t VALUES (2, 'two')" }]).changesets) b!.apply(c)
    const oldActor = a.siteId
    a.close()
    const restored = openStore({ path: old })
    expect(hex(restored.siteId)).not.toBe(hex(oldActor))
    // writing before syncing cannot collide with versions the old identity already sent
    expect(restored.transaction([{ sql: "INSERT INTO t VALUES (3, 'three')" }]).version).toBe(1)
    expect(restored.needs(b!.summary()).actors.map(x => [hex(x.actor), x.full])).toEqual([[hex(oldActor), [[2, 2]]]])
    pull(restored, b!)
    pull(b!, restored)
    expect(rows(restored, 't')).toEqual([[1, 'one'], [2, 'two'], [3, 'three']])
    expect(rows(b!, 't')).toEqual(rows(restored, 't'))
    restored.close(); b!.close()
  })
  it('treats NaN from the wire as the NULL SQLite would store', () => {
    const [x, y] = stores(2, schema)
    const other = new Uint8Array(16).fill(3)
    const nan: Changeset = { actor: other, version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [{ table: 't', pk: Uint8Array.of(1, 9, 1), cid: 'a', val: Number.NaN, colVersion: 1, dbVersion: 1, siteId: other, cl: 1, seq: 0 }] }
    const mine = x!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x')" }]).changesets
    x!.apply(nan)
    y!.apply(nan)
    for (const c of mine) y!.apply(c)
    expect(rows(x!, 't')).toEqual(rows(y!, 't'))
    x!.close(); y!.close()
  })
  it('compacts as it writes: local overwrites and merged ones shrink older row lists without compact()', () => {
    const [a, b] = stores(2, schema)
    // the row-list size of a's first version, as each store holds it
    const firstList = (s: typeof a): number => [...s!.read(`SELECT length(v.rows) FROM __patina_versions AS v JOIN __patina_sites AS s ON s.ordinal = v.site WHERE s.site_id = x'${hex(a!.siteId)}' AND v.dbv = 1`).rows][0]![0] as number
    for (const c of a!.transaction(tx => { for (let i = 0; i < 200; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v']) }).changesets) b!.apply(c)
    const full = firstList(a)
    expect(full).toBeGreaterThan(200)
    expect(firstList(b)).toBeGreaterThan(200)
    // inserts of new rows take nothing from it
    for (let i = 200; i < 220; i++) for (const c of a!.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, 'v'] }]).changesets) b!.apply(c)
    expect(firstList(a)).toBe(full)
    // updates of its rows take its cells; the writes (local on a, merged on b) compact it
    for (let k = 0; k < 3; k++) {
      for (const c of a!.transaction([{ sql: 'UPDATE t SET a = ? WHERE id < 200', params: ['u' + k] }]).changesets) b!.apply(c)
    }
    expect(firstList(a)).toBeLessThanOrEqual(1)
    expect(firstList(b)).toBeLessThanOrEqual(1)
    a!.close(); b!.close()
  })
  it('shrinks the row lists of overwritten versions, and still serves them as cleared', () => {
    const [a, b] = stores(2, schema)
    a!.transaction(tx => { for (let i = 0; i < 200; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v']) })
    for (let k = 0; k < 30; k++) a!.transaction([{ sql: 'UPDATE t SET a = ?', params: ['u' + k] }])
    const listBytes = (): number => [...a!.read('SELECT sum(length(rows)) FROM __patina_versions').rows][0]![0] as number
    // writes already compacted older lists as they went; compact() finishes whatever is left.
    // Only the newest version still owns cells; the 30 cleared ones keep one byte each.
    a!.compact()
    expect(listBytes()).toBeLessThan(200 * 4 + 40)
    pull(b!, a!)
    expect(rows(b!, 't')).toEqual(rows(a!, 't'))
    expect(b!.syncStatus().find(x => x.actor === hex(a!.siteId))).toMatchObject({ head: 31, gaps: [] })
    expect(a!.compact()).toEqual({ versions: 0, keysDropped: 0 })
    a!.close(); b!.close()
  })
})

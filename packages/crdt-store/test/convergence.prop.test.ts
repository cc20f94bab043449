/**
 * Convergence properties on real `:memory:` stores: replicas write concurrently, their chunked
 * changesets travel (through the codec) in random order with duplicates and chunks held back, and
 * once everything is delivered — by broadcast or purely by summary/needs/serve/apply — every
 * replica has the same tables, the same `crsql_changes` and no gaps. Set FC_SEED to replay.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, decodeChangeset, encodeChangeset, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { plain } from './oracle/plain.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { changeRows, snapshot } from './oracle/store-snapshot.ts'
import { hex } from './oracle/typed-value.ts'

interface Produced { origin: number; version: number; chunks: Changeset[] }

let fileDir = ''
beforeAll(() => { fileDir = mkdtempSync(join(tmpdir(), 'patina-convergence-')) })
afterAll(() => { rmSync(fileDir, { recursive: true, force: true }) })
let fileNo = 0

/** Opens `n` replicas; with `fileBacked`, replica 0 is a file store (separate read connection, WAL). */
function openReplicas (n: number, chunkBytes: number, fileBacked = false): CrdtStore[] {
  const stores: CrdtStore[] = []
  for (let i = 0; i < n; i++) {
    let t = 1_700_000_000_000 + i
    const path = fileBacked && i === 0 ? join(fileDir, `r${fileNo++}.db`) : ':memory:'
    const s = openStore({ path, chunkBytes, now: () => t++ })
    s.applySchema(RANDOM_SCHEMA)
    stores.push(s)
  }
  return stores
}

const wire = (cs: Changeset): Changeset => decodeChangeset(encodeChangeset(cs))

function at<T> (xs: readonly T[], i: number): T {
  const v = xs[i % xs.length]
  if (v === undefined) throw new RangeError('empty')
  return v
}

/** Cells a version contributed, as the receiver attributes them (origin site, origin version). */
function cellsOfVersion (store: CrdtStore, actor: Uint8Array, version: number): number {
  return changeRows(store, `WHERE site_id = x'${hex(actor)}' AND db_version = ${version}`).length
}

function assertConverged (stores: readonly CrdtStore[], produced: readonly Produced[]): void {
  const first = stores[0]
  if (first === undefined) return
  const want = snapshot(first)
  for (const [i, s] of stores.entries()) {
    expect(snapshot(s), `replica ${i} differs from replica 0`).toEqual(want)
    expect(s.gapCount(), `replica ${i} gap count`).toBe(0)
    for (const a of s.syncStatus()) {
      expect(a.partials, `replica ${i} partials of ${a.actor}`).toEqual([])
      expect(a.gaps, `replica ${i} gaps of ${a.actor}`).toEqual([])
    }
    // Every actor's head is the number of versions it produced.
    for (const [o, origin] of stores.entries()) {
      const versions = produced.filter(p => p.origin === o).length
      const st = s.syncStatus().find(x => x.actor === hex(origin.siteId))
      expect(st?.head ?? 0, `replica ${i}: head of actor ${o}`).toBe(versions)
    }
  }
}

const scenarioArb = fc.record({
  replicas: fc.integer({ min: 3, max: 4 }),
  chunkBytes: fc.constantFrom(64, 160, 512, 8192),
  fileBacked: fc.boolean(),
  // final delivery through applyBatch in slices of this size (0: one apply() per changeset)
  batch: fc.constantFrom(0, 0, 1, 3, 50),
  steps: fc.array(fc.oneof(
    fc.record({ kind: fc.constant('write' as const), at: fc.nat(), tx: txArb({ pkChanges: true }) }),
    fc.record({ kind: fc.constant('deliver' as const), which: fc.nat(), to: fc.nat(), keep: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }) })
  ), { minLength: 1, maxLength: 24 })
})

describe('convergence (broadcast path)', () => {
  test('random concurrent writes converge once every chunk is delivered in any order, duplicated', () => {
    fc.assert(fc.property(scenarioArb, fc.gen(), (sc, g) => {
      const stores = openReplicas(sc.replicas, sc.chunkBytes, sc.fileBacked)
      try {
        const produced: Produced[] = []
        // delivered[replica] = set of "origin:version:chunkIndex"
        const delivered = stores.map(() => new Set<string>())
        for (const step of sc.steps) {
          if (step.kind === 'write') {
            const origin = step.at % stores.length
            const res = at(stores, origin).transaction(step.tx.map(sql => ({ sql })))
            if (res.version !== null) {
              expect(res.changesets.length).toBeGreaterThan(0)
              produced.push({ origin, version: res.version, chunks: res.changesets.map(wire) })
            } else {
              expect(res.changesets).toEqual([])
            }
          } else if (produced.length > 0) {
            const p = at(produced, step.which)
            const to = step.to % stores.length
            if (to === p.origin) continue
            const target = at(stores, to)
            p.chunks.forEach((cs, ci) => {
              if (step.keep[ci % step.keep.length] !== true) return
              target.apply(cs)
              delivered[to]?.add(`${p.origin}:${p.version}:${ci}`)
            })
            // A version with a chunk missing must not be visible at all (atomic apply).
            const complete = p.chunks.every((_, ci) => delivered[to]?.has(`${p.origin}:${p.version}:${ci}`))
            if (!complete) {
              expect(cellsOfVersion(target, at(stores, p.origin).siteId, p.version), `partial version ${p.version} of ${p.origin} leaked into ${to}`).toBe(0)
            }
          }
        }
        // Final delivery: every chunk to every replica, shuffled, some twice.
        for (const [to, target] of stores.entries()) {
          const all = produced.filter(p => p.origin !== to).flatMap(p => p.chunks)
          const dupes = g(fc.subarray, all)
          const order = g(fc.shuffledSubarray, [...all, ...dupes], { minLength: all.length + dupes.length })
          if (sc.batch === 0) for (const cs of order) target.apply(cs)
          else {
            for (let i = 0; i < order.length; i += sc.batch) {
              for (const r of target.applyBatch(order.slice(i, i + sc.batch))) expect(r).not.toBeInstanceOf(Error)
            }
          }
        }
        assertConverged(stores, produced)
      } finally {
        for (const s of stores) s.close()
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)
})

describe('convergence (sync path)', () => {
  test('replicas that never got broadcasts catch up purely by summary / needs / serve / apply', () => {
    fc.assert(fc.property(scenarioArb, fc.array(fc.tuple(fc.nat(), fc.nat()), { maxLength: 6 }), fc.gen(), (sc, partialSyncs, g) => {
      const stores = openReplicas(sc.replicas, sc.chunkBytes, sc.fileBacked)
      try {
        const produced: Produced[] = []
        for (const step of sc.steps) {
          if (step.kind === 'write') {
            const origin = step.at % stores.length
            const res = at(stores, origin).transaction(step.tx.map(sql => ({ sql })))
            if (res.version !== null) produced.push({ origin, version: res.version, chunks: res.changesets })
          } else if (produced.length > 0) {
            // Lossy broadcast: only some chunks arrive, leaving partial versions and gaps.
            const p = at(produced, step.which)
            const to = step.to % stores.length
            if (to === p.origin) continue
            p.chunks.forEach((cs, ci) => { if (step.keep[ci % step.keep.length] === true) at(stores, to).apply(wire(cs)) })
          }
        }
        // A few random one-way syncs mid-way, through the codecs.
        for (const [a, b] of partialSyncs) {
          const from = at(stores, a)
          const to = at(stores, b)
          if (from === to) continue
          for (const cs of from.serve(to.needs(from.summary()))) to.apply(wire(cs))
        }
        // Full anti-entropy in a random pair order, two rounds.
        const pairs: Array<[number, number]> = []
        for (let a = 0; a < stores.length; a++) for (let b = 0; b < stores.length; b++) if (a !== b) pairs.push([a, b])
        for (let round = 0; round < 2; round++) {
          for (const [a, b] of g(fc.shuffledSubarray, pairs, { minLength: pairs.length })) {
            const from = at(stores, a)
            const to = at(stores, b)
            for (const cs of from.serve(to.needs(from.summary()))) to.apply(wire(cs))
          }
        }
        assertConverged(stores, produced)
        // Once converged, nobody needs anything from anybody.
        for (const a of stores) for (const b of stores) if (a !== b) expect([...b.serve(a.needs(b.summary()))]).toEqual([])
        // changes(actor, from, to) is what serve() sends for those versions.
        for (const s of stores) {
          for (const st of s.summary().actors) {
            const served = [...s.serve({ actors: [{ actor: st.actor, full: [[1, st.head]], partial: [] }] })].flatMap(cs => cs.changes)
            expect(plain(s.changes(st.actor, 1, st.head)), 'changes() vs serve()').toEqual(plain(served))
          }
        }
      } finally {
        for (const s of stores) s.close()
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)
})

describe('convergence (arrival order of one actor\'s versions)', () => {
  test('a re-insert\'s sentinel keeps its origin when a later version of the same row arrives first', () => {
    const [a, b, c] = openReplicas(3, 8192) as [CrdtStore, CrdtStore, CrdtStore]
    try {
      const v1 = a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'first')" }]).changesets
      const v2 = a.transaction([{ sql: 'DELETE FROM t WHERE id = 1' }, { sql: "INSERT INTO t (id, a) VALUES (1, 'again')" }]).changesets
      const v3 = a.transaction([{ sql: "UPDATE t SET b = 'later' WHERE id = 1" }]).changesets
      for (const cs of [...v1, ...v3, ...v2]) b.apply(wire(cs))
      for (const cs of [...v1, ...v2, ...v3]) c.apply(wire(cs))
      expect(snapshot(c), 'in-order replica differs from the origin').toEqual(snapshot(a))
      expect(snapshot(b), 'v3-before-v2 replica differs from the origin').toEqual(snapshot(a))
    } finally {
      for (const s of [a, b, c]) s.close()
    }
  })
})

describe('convergence after losing recent local commits', () => {
  test('a node reopened from an older copy of itself gets its own newer versions back and never reuses their numbers', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-restore-'))
    const path = join(dir, 'a.db')
    let a = openStore({ path })
    const b = openStore({ path: ':memory:' })
    try {
      for (const s of [a, b]) s.applySchema(RANDOM_SCHEMA)
      for (const cs of a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'v1')" }]).changesets) b.apply(cs)
      // The file as it was after v1: what a disk that lost the last commits leaves behind
      // (same identity, older contents).
      a.close()
      copyFileSync(path, join(dir, 'old.db'))
      a = openStore({ path })
      for (const cs of a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (2, 'v2')" }]).changesets) b.apply(cs)
      a.close()
      a = openStore({ path: join(dir, 'old.db') })
      // Anti-entropy with b must bring version 2 of a's own actor back...
      for (const cs of b.serve(a.needs(b.summary()))) a.apply(cs)
      expect(tableRowsOf(a), 'a lost its own version 2 for good').toEqual(tableRowsOf(b))
      // ...and a's next write must not reuse a version number b already has for a's actor.
      const next = a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (3, 'v3')" }])
      const known = b.syncStatus().find(x => x.actor === Buffer.from(a.siteId).toString('hex'))?.head ?? 0
      expect(next.version).toBeGreaterThan(known)
      for (const cs of next.changesets) b.apply(cs)
      expect(snapshot(b)).toEqual(snapshot(a))
    } finally {
      a.close()
      b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('convergence after restoring a backup', () => {
  test('a node restored from an older backup that writes before it syncs still converges with its peers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-restore2-'))
    let a = openStore({ path: join(dir, 'a.db') })
    const b = openStore({ path: ':memory:' })
    try {
      for (const s of [a, b]) s.applySchema(RANDOM_SCHEMA)
      for (const cs of a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'v1')" }]).changesets) b.apply(cs)
      await a.backup(join(dir, 'old.db'))
      for (const cs of a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (2, 'lost')" }]).changesets) b.apply(cs)
      a.close()
      a = openStore({ path: join(dir, 'old.db') })
      // Writes first: whatever version it gets must not be mistaken for the lost one.
      const w = a.transaction([{ sql: "INSERT INTO t (id, a) VALUES (3, 'after restore')" }])
      for (const cs of w.changesets) b.apply(cs)
      for (let round = 0; round < 2; round++) {
        for (const cs of b.serve(a.needs(b.summary()))) a.apply(cs)
        for (const cs of a.serve(b.needs(a.summary()))) b.apply(cs)
      }
      expect(snapshot(a).tables).toEqual(snapshot(b).tables)
      expect(snapshot(a).tables.t?.length, 'rows 1, 2 and 3 everywhere').toBe(3)
      expect(snapshot(a)).toEqual(snapshot(b))
    } finally {
      a.close()
      b.close()
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

function tableRowsOf (s: CrdtStore): unknown {
  return snapshot(s).tables
}

describe('convergence with awkward identifiers', () => {
  // cr-sqlite 0.16 itself rejects such names in crsql_as_crr ("SQL logic error"), so this is not
  // a differential test: two Patina replicas must agree, and crsql_changes must name things right.
  test('quoted table and column names with spaces, quotes, keywords and non-ASCII replicate', () => {
    const schema = [
      'CREATE TABLE "we""ird tablé" ("key col" INTEGER PRIMARY KEY NOT NULL, "select" TEXT, "ü ""q""", [bracket] BLOB, `tick` REAL)',
      'CREATE TABLE "order" ("group" TEXT NOT NULL, "by" INTEGER NOT NULL, "from" TEXT DEFAULT \'x\', PRIMARY KEY ("by", "group"))',
      'CREATE INDEX "idx ""1""" ON "order" ("from")'
    ]
    const [a, b] = openReplicas(2, 128) as [CrdtStore, CrdtStore]
    try {
      for (const s of [a, b]) s.applySchema(schema)
      const txs = [
        a.transaction([{ sql: 'INSERT INTO "we""ird tablé" ("key col", "select", "ü ""q""", [bracket], `tick`) VALUES (1, \'a\', 1, x\'01\', 1.5), (2, \'b\', NULL, NULL, 2.5)' }]),
        b.transaction([{ sql: 'INSERT INTO "we""ird tablé" ("key col", "select") VALUES (1, \'z\')' }]),
        a.transaction([{ sql: 'INSERT INTO "order" ("group", "by") VALUES (\'g\', 1), (\'h\', 2)' }]),
        b.transaction([{ sql: 'INSERT INTO "order" ("group", "by", "from") VALUES (\'g\', 1, \'y\')' }]),
        a.transaction([{ sql: 'UPDATE "we""ird tablé" SET "ü ""q""" = \'é\' WHERE "key col" = 2' }]),
        a.transaction([{ sql: 'DELETE FROM "order" WHERE "by" = 2' }]),
        a.transaction([{ sql: 'UPDATE "order" SET "by" = 5 WHERE "group" = \'g\'' }])
      ]
      expect(txs.map(t => t.version)).toEqual([1, 1, 2, 2, 3, 4, 5])
      for (const [from, to] of [[a, b], [b, a]] as const) for (const cs of from.serve(to.needs(from.summary()))) to.apply(wire(cs))
      expect(snapshot(b)).toEqual(snapshot(a))
      const names = [...a.read('SELECT DISTINCT "table", cid FROM crsql_changes ORDER BY 1, 2').rows].map(r => `${String(r[0])}.${String(r[1])}`)
      expect(names).toEqual(expect.arrayContaining(['we"ird tablé.ü "q"', 'we"ird tablé.select', 'we"ird tablé.bracket', 'we"ird tablé.tick', 'order.from']))
      expect(snapshot(a).tables['we"ird tablé']).toEqual([
        ['i:1', 't:"z"', 'i:1', 'b:01', 'r:1.5'],
        ['i:2', 't:"b"', 't:"é"', 'n', 'r:2.5']
      ])
    } finally {
      a.close()
      b.close()
    }
  })
})

describe('convergence after losing recent local commits (random)', () => {
  test('a node reopened from an older copy of its file recovers everything by syncing first', () => {
    fc.assert(fc.property(
      fc.array(txArb({ pkChanges: true }), { minLength: 2, maxLength: 8 }),
      fc.nat(), fc.array(txArb(), { maxLength: 3 }), fc.array(txArb(), { maxLength: 3 }),
      (history, cut, peerWrites, afterWrites) => {
        const dir = mkdtempSync(join(tmpdir(), 'patina-lost-'))
        const path = join(dir, 'a.db')
        let a = openStore({ path, chunkBytes: 128 })
        const b = openStore({ path: ':memory:', chunkBytes: 128 })
        try {
          for (const s of [a, b]) s.applySchema(RANDOM_SCHEMA)
          const at = cut % history.length
          history.forEach((tx, i) => {
            if (i === at) { a.close(); copyFileSync(path, join(dir, 'old.db')); a = openStore({ path, chunkBytes: 128 }) }
            for (const cs of a.transaction(tx.map(sql => ({ sql }))).changesets) b.apply(cs)
          })
          for (const tx of peerWrites) b.transaction(tx.map(sql => ({ sql })))
          a.close()
          a = openStore({ path: join(dir, 'old.db'), chunkBytes: 128 })
          for (const cs of b.serve(a.needs(b.summary()))) a.apply(cs)
          for (const tx of afterWrites) for (const cs of a.transaction(tx.map(sql => ({ sql }))).changesets) b.apply(cs)
          for (const cs of a.serve(b.needs(a.summary()))) b.apply(cs)
          expect(snapshot(a)).toEqual(snapshot(b))
          expect(a.gapCount()).toBe(0)
          expect(b.gapCount()).toBe(0)
        } finally {
          a.close()
          b.close()
          rmSync(dir, { recursive: true, force: true })
        }
      }), fcParams(25))
  }, PROP_TIMEOUT)
})

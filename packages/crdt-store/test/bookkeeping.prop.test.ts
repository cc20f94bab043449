/**
 * Bookkeeping properties: after any subset of chunks arrives (in any order, duplicated), the
 * receiver's `needs()` against the origin asks for exactly the missing versions and seq ranges —
 * nothing it already holds, nothing left out — and serving them closes every gap. The state
 * survives closing and reopening a file store. Replay a failure with FC_SEED.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, type SyncNeeds, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { snapshot } from './oracle/store-snapshot.ts'
import { hex } from './oracle/typed-value.ts'

let dir = ''
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'patina-bookkeeping-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
let fileNo = 0

/** Expands inclusive ranges into a sorted list of numbers. */
function expand (ranges: ReadonlyArray<readonly [number, number]>): number[] {
  const out: number[] = []
  for (const [a, b] of ranges) for (let x = a; x <= b; x++) out.push(x)
  return out.sort((x, y) => x - y)
}

/** Versions and seqs `needs` asks of one actor. */
function asked (needs: SyncNeeds, actor: Uint8Array): { full: number[]; partial: Map<number, number[]> } {
  const a = needs.actors.find(x => hex(x.actor) === hex(actor))
  const partial = new Map<number, number[]>()
  for (const p of a?.partial ?? []) partial.set(p.version, expand(p.seqs))
  return { full: expand(a?.full ?? []), partial }
}

const scenarioArb = fc.record({
  origins: fc.array(fc.array(txArb({ pkChanges: true }), { minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 3 }),
  chunkBytes: fc.constantFrom(64, 128, 400),
  // For each chunk (by running index), whether it is delivered, and whether twice.
  deliver: fc.array(fc.constantFrom(0, 1, 1, 2), { minLength: 1, maxLength: 64 }),
  reopen: fc.boolean()
})

describe('bookkeeping', () => {
  test('needs() asks for exactly what is missing; serving it closes every gap; state survives reopen', () => {
    fc.assert(fc.property(scenarioArb, fc.gen(), (sc, g) => {
      let t = 1_700_000_000_000
      const origins = sc.origins.map(() => {
        const s = openStore({ path: ':memory:', chunkBytes: sc.chunkBytes, now: () => t++ })
        s.applySchema(RANDOM_SCHEMA)
        return s
      })
      const path = join(dir, `r${fileNo++}.db`)
      let recv: CrdtStore = openStore({ path, chunkBytes: sc.chunkBytes })
      try {
        recv.applySchema(RANDOM_SCHEMA)
        // Each origin writes its own history (origins do not sync with each other).
        const chunks: Array<{ origin: number; cs: Changeset }> = []
        sc.origins.forEach((txs, o) => {
          for (const tx of txs) {
            const r = origins[o]!.transaction(tx.map(sql => ({ sql })))
            for (const cs of r.changesets) chunks.push({ origin: o, cs })
          }
        })
        // Deliver a subset, in a random order, some twice.
        const picked: Array<{ origin: number; cs: Changeset }> = []
        chunks.forEach((c, i) => { for (let k = 0; k < (sc.deliver[i % sc.deliver.length] ?? 0); k++) picked.push(c) })
        for (const c of g(fc.shuffledSubarray, picked, { minLength: picked.length })) recv.apply(c.cs)

        if (sc.reopen) {
          const before = { status: recv.syncStatus(), snap: snapshot(recv), gaps: recv.gapCount() }
          recv.close()
          recv = openStore({ path, chunkBytes: sc.chunkBytes })
          expect(recv.syncStatus(), 'bookkeeping after reopen').toEqual(before.status)
          expect(recv.gapCount()).toBe(before.gaps)
          expect(snapshot(recv), 'data after reopen').toEqual(before.snap)
        }

        // What was delivered, per origin: version -> set of seqs present.
        for (const [o, origin] of origins.entries()) {
          const bySeq = new Map<number, { lastSeq: number; have: Set<number> }>()
          for (const c of chunks.filter(x => x.origin === o)) {
            const e = bySeq.get(c.cs.version) ?? { lastSeq: c.cs.lastSeq, have: new Set<number>() }
            bySeq.set(c.cs.version, e)
          }
          for (const c of picked.filter(x => x.origin === o)) {
            for (let s = c.cs.seqs[0]; s <= c.cs.seqs[1]; s++) bySeq.get(c.cs.version)?.have.add(s)
          }
          const needs = recv.needs(origin.summary())
          const got = asked(needs, origin.siteId)
          const wantFull: number[] = []
          const wantPartial = new Map<number, number[]>()
          for (const [version, e] of [...bySeq.entries()].sort((a, b) => a[0] - b[0])) {
            const missing: number[] = []
            for (let s = 0; s <= e.lastSeq; s++) if (!e.have.has(s)) missing.push(s)
            if (missing.length === 0) continue
            if (e.have.size === 0) wantFull.push(version)
            else wantPartial.set(version, missing)
          }
          // A version asked for whole while some of its seqs are here is acceptable only if it is
          // not also asked for partially; what matters is that every missing seq is asked for and
          // nothing complete is.
          const askedVersions = new Set([...got.full, ...got.partial.keys()])
          const wantVersions = new Set([...wantFull, ...wantPartial.keys()])
          expect([...askedVersions].sort((a, b) => a - b), `origin ${o}: versions asked`).toEqual([...wantVersions].sort((a, b) => a - b))
          for (const [version, seqs] of wantPartial) {
            if (got.full.includes(version)) continue
            expect(got.partial.get(version), `origin ${o} v${version}: seqs asked`).toEqual(seqs)
          }
          for (const v of wantFull) expect(got.full, `origin ${o}: v${v} with nothing received must be asked whole`).toContain(v)
          for (const cs of origin.serve(needs)) recv.apply(cs)
        }
        expect(recv.gapCount()).toBe(0)
        for (const st of recv.syncStatus()) {
          expect(st.gaps).toEqual([])
          expect(st.partials).toEqual([])
        }
        for (const origin of origins) {
          const st = recv.syncStatus().find(x => x.actor === hex(origin.siteId))
          expect(st?.head ?? 0).toBe(origin.syncStatus().find(x => x.actor === hex(origin.siteId))?.head ?? 0)
        }
        // Content equals a replica that got everything in order.
        const ref = openStore({ path: ':memory:' })
        try {
          ref.applySchema(RANDOM_SCHEMA)
          for (const c of chunks) ref.apply(c.cs)
          expect(snapshot(recv)).toEqual(snapshot(ref))
        } finally { ref.close() }
      } finally {
        for (const s of origins) s.close()
        recv.close()
        rmSync(path, { force: true })
        rmSync(`${path}-wal`, { force: true })
        rmSync(`${path}-shm`, { force: true })
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)

  test('the cost of applying a version does not grow with the number of gaps', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(RANDOM_SCHEMA)
      const actor = new Uint8Array(16).fill(9)
      let v = 1
      const applyOdd = (count: number): number => {
        const t0 = performance.now()
        for (let i = 0; i < count; i++) { s.apply({ actor, version: v, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [] }); v += 2 }
        return (performance.now() - t0) / count
      }
      applyOdd(50)
      const few = applyOdd(200)
      applyOdd(1300)
      expect(s.gapCount()).toBeGreaterThan(1400)
      const many = applyOdd(200)
      // Every apply with ~1,500 gaps should cost about what it costs with ~100 gaps.
      expect(many, `${many.toFixed(3)} ms per apply with ~1,500 gaps vs ${few.toFixed(3)} ms with ~100`).toBeLessThan(Math.max(few * 5, 1))
    } finally { s.close() }
  }, 120_000)

  test('storage stays bounded when the same rows are overwritten again and again', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(['CREATE TABLE w (id INTEGER PRIMARY KEY NOT NULL, a INTEGER)'])
      s.transaction([{ sql: 'WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 1000) INSERT INTO w (id, a) SELECT i, 0 FROM r' }])
      const used = (): number => Number([...s.read('SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()').rows][0]![0])
      for (let k = 1; k <= 10; k++) s.transaction([{ sql: 'UPDATE w SET a = ?', params: [k] }])
      const early = used()
      for (let k = 11; k <= 300; k++) s.transaction([{ sql: 'UPDATE w SET a = ?', params: [k] }])
      const late = used()
      // 290 more versions, each entirely overwritten by the next: what they need to keep is a
      // version number, a timestamp and a last seq — not a list of the 1,000 rows they touched.
      expect(late, `${late} bytes after 300 full-table updates vs ${early} after 10`).toBeLessThan(early * 2)
    } finally { s.close() }
  })
})

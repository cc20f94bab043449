/**
 * Merge is idempotent, commutative and associative: states built from the same changes in any
 * grouping or order are identical (tables and `crsql_changes`). Real `:memory:` stores; replay
 * a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { snapshot } from './oracle/store-snapshot.ts'

function fresh (): CrdtStore {
  let t = 1_700_000_000_000
  const s = openStore({ path: ':memory:', chunkBytes: 200, now: () => t++ })
  s.applySchema(RANDOM_SCHEMA)
  return s
}

/** Pulls everything `from` has into `to` (anti-entropy, one way). */
function pull (to: CrdtStore, from: CrdtStore): void {
  for (const cs of from.serve(to.needs(from.summary()))) to.apply(cs)
}

const historyArb = fc.array(txArb({ pkChanges: true }), { minLength: 1, maxLength: 8 })

/** Builds `n` replicas with independent histories; `links` lets some of them sync in between. */
function build (histories: readonly (readonly string[][])[], links: ReadonlyArray<readonly [number, number, number]>): { stores: CrdtStore[]; changesets: Changeset[][] } {
  const stores = histories.map(() => fresh())
  const changesets: Changeset[][] = stores.map(() => [])
  const longest = Math.max(...histories.map(h => h.length))
  for (let step = 0; step < longest; step++) {
    histories.forEach((h, i) => {
      const tx = h[step]
      const s = stores[i]
      if (tx === undefined || s === undefined) return
      changesets[i]?.push(...s.transaction(tx.map(sql => ({ sql }))).changesets)
    })
    for (const [when, a, b] of links) {
      const from = stores[a % stores.length]
      const to = stores[b % stores.length]
      if (when % longest === step && from !== undefined && to !== undefined && from !== to) pull(to, from)
    }
  }
  return { stores, changesets }
}

const linksArb = fc.array(fc.tuple(fc.nat(), fc.nat(), fc.nat()), { maxLength: 3 })

describe('merge algebra', () => {
  test('idempotent: applying every changeset twice equals applying it once', () => {
    fc.assert(fc.property(historyArb, historyArb, linksArb, (h1, h2, links) => {
      const { stores, changesets } = build([h1, h2], links)
      const once = fresh()
      const twice = fresh()
      try {
        for (const cs of changesets.flat()) once.apply(cs)
        for (const cs of changesets.flat()) { twice.apply(cs); twice.apply(cs) }
        for (const cs of changesets.flat()) {
          const r = twice.apply(cs)
          expect(['duplicate', 'cleared']).toContain(r.status)
        }
        expect(snapshot(twice)).toEqual(snapshot(once))
        // And a replica re-applying its own or already-synced state changes nothing.
        const before = snapshot(once)
        pull(once, stores[0] as CrdtStore)
        pull(once, stores[1] as CrdtStore)
        expect(snapshot(once)).toEqual(before)
      } finally {
        for (const s of [...stores, once, twice]) s.close()
      }
    }), fcParams(20))
  }, PROP_TIMEOUT)

  test('commutative: pulling A then B equals pulling B then A', () => {
    fc.assert(fc.property(historyArb, historyArb, linksArb, (h1, h2, links) => {
      const { stores } = build([h1, h2], links)
      const [a, b] = stores as [CrdtStore, CrdtStore]
      const ab = fresh()
      const ba = fresh()
      try {
        pull(ab, a); pull(ab, b)
        pull(ba, b); pull(ba, a)
        expect(snapshot(ba)).toEqual(snapshot(ab))
        // The sources themselves converge to the same state after exchanging.
        pull(a, b); pull(b, a)
        expect(snapshot(a)).toEqual(snapshot(ab))
        expect(snapshot(b)).toEqual(snapshot(ab))
      } finally {
        for (const s of [...stores, ab, ba]) s.close()
      }
    }), fcParams(30))
  }, PROP_TIMEOUT)

  test('associative: (A ⊔ B) ⊔ C equals A ⊔ (B ⊔ C)', () => {
    fc.assert(fc.property(historyArb, historyArb, historyArb, linksArb, (h1, h2, h3, links) => {
      const { stores } = build([h1, h2, h3], links)
      const [a, b, c] = stores as [CrdtStore, CrdtStore, CrdtStore]
      const ab = fresh(); pull(ab, a); pull(ab, b)
      const left = fresh(); pull(left, ab); pull(left, c)
      const bc = fresh(); pull(bc, b); pull(bc, c)
      const right = fresh(); pull(right, a); pull(right, bc)
      try {
        expect(snapshot(right)).toEqual(snapshot(left))
      } finally {
        for (const s of [...stores, ab, left, bc, right]) s.close()
      }
    }), fcParams(20))
  }, PROP_TIMEOUT)
})

import { describe, it, expect } from 'vitest'
import { openStore, decodeNeeds } from '@patina/crdt-store'
import { createSyncPort } from '../src/adapters/sync-port.ts'
import { AgedHeads, clipSummary } from '../src/adapters/aged-heads.ts'
import { createLogger } from '../src/logger.ts'

const SCHEMA = 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);'
const logger = createLogger({ format: 'json', level: 'silent' })

function store () {
  const s = openStore({ path: ':memory:' })
  s.applySchema(SCHEMA)
  return s
}

describe('sync port adapter over real stores', () => {
  it('asks each actor from one peer only, packs changesets into chunks and applies them', () => {
    const a = store()
    const b = store()
    const c = store()
    for (let i = 0; i < 50; i++) a.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, 'a'.repeat(100)] }])
    // b has a's first 20 versions plus its own writes
    for (const cs of a.serve(b.needs(a.summary()))) if (cs.version <= 20) b.apply(cs)
    b.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [1000, 'b'] }])
    const portA = createSyncPort({ store: a, guard: fn => fn(), logger, chunkBytes: 4096 })
    const portB = createSyncPort({ store: b, guard: fn => fn(), logger })
    const portC = createSyncPort({ store: c, guard: fn => fn(), logger })
    const applied: boolean[] = []
    const portCTracked = createSyncPort({ store: c, guard: fn => fn(), logger, onApplied: fresh => { applied.push(fresh) } })

    const needs = portC.needs([{ peer: 'A', summary: portA.summary() }, { peer: 'B', summary: portB.summary() }])
    const byPeer = new Map(needs.map(n => [n.peer, decodeNeeds(n.needs)]))
    // a's actor is asked from A (highest head), b's actor from B: disjoint
    const actorsOf = (p: string): string[] => (byPeer.get(p)?.actors ?? []).map(x => Buffer.from(x.actor).toString('hex')).sort()
    expect(actorsOf('A')).toEqual([Buffer.from(a.siteId).toString('hex')])
    expect(actorsOf('B')).toEqual([Buffer.from(b.siteId).toString('hex')])

    const chunks = [...portA.serve(needs.find(n => n.peer === 'A')!.needs)]
    expect(chunks.length).toBeGreaterThan(1) // 50 versions of ~100 bytes in 4 KiB chunks
    for (const ch of chunks) portCTracked.apply(ch)
    for (const ch of portB.serve(needs.find(n => n.peer === 'B')!.needs)) portCTracked.apply(ch)
    expect(applied.filter(Boolean).length).toBe(51)
    const count = c.read('SELECT count(*) FROM t')
    expect([...count.rows]).toEqual([[51]])
    expect(c.gapCount()).toBe(0)
    expect(() => portC.apply(new Uint8Array([0, 0, 0, 9, 1]))).toThrow(/truncated/)
    for (const s of [a, b, c]) s.close()
  })

  it('asks an actor\'s versions from the peer that holds them, not from one with a higher head and gaps where we lack', () => {
    const a = store()
    const b = store()
    const d = store()
    const c = store()
    for (let i = 0; i < 40; i++) a.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, 'a'] }])
    const all = [...a.serve(c.needs(a.summary()))]
    // B holds 1..40 but lacks 10..30; D holds 1..35 without gaps; C has 1..9
    for (const cs of all) if (cs.version < 10 || cs.version > 30) b.apply(cs)
    for (const cs of all) if (cs.version <= 35) d.apply(cs)
    for (const cs of all) if (cs.version < 10) c.apply(cs)
    const port = (s: ReturnType<typeof store>): ReturnType<typeof createSyncPort> => createSyncPort({ store: s, guard: fn => fn(), logger, random: () => 0 })
    const needs = port(c).needs([{ peer: 'B', summary: port(b).summary() }, { peer: 'D', summary: port(d).summary() }])
    expect(needs.map(n => n.peer)).toEqual(['D'])
    for (const ch of port(d).serve(needs[0]!.needs)) port(c).apply(ch)
    expect(c.summary().actors[0]).toMatchObject({ head: 35, gaps: [] })
    // equal holdings: the higher head wins, so the rest comes next round
    const next = port(c).needs([{ peer: 'B', summary: port(b).summary() }, { peer: 'D', summary: port(d).summary() }])
    expect(next.map(n => n.peer)).toEqual(['B'])
    for (const s of [a, b, c, d]) s.close()
  })

  it('with a grace period, asks only for versions announced at least that long ago', async () => {
    const a = store()
    const c = store()
    const write = (n: number): void => { for (let i = 0; i < n; i++) a.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [a.summary().actors[0]?.head ?? 0, 'x'] }]) }
    write(10)
    let t = 1000
    const portA = createSyncPort({ store: a, guard: fn => fn(), logger })
    const portC = createSyncPort({ store: c, guard: fn => fn(), logger, graceMs: 500, now: () => t })
    const pull = (): number[] => {
      const needs = portC.needs([{ peer: 'A', summary: portA.summary() }])
      const versions: number[] = []
      for (const n of needs) for (const x of decodeNeeds(n.needs).actors) for (const [from, to] of x.full) for (let v = from; v <= to; v++) versions.push(v)
      for (const n of needs) for (const ch of portA.serve(n.needs)) portC.apply(ch)
      return versions
    }
    // an actor seen for the first time is asked for in full (nothing of it can be in flight yet)
    expect(pull()).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])
    write(5)
    t = 1100
    // 11..15 announced just now: left to broadcast
    expect(pull()).toEqual([])
    write(2)
    t = 1400
    expect(pull()).toEqual([])
    // 11..15 were announced 500 ms ago; 16..17 only 200 ms ago
    t = 1600
    expect(pull()).toEqual([11, 12, 13, 14, 15])
    t = 1900
    expect(pull()).toEqual([16, 17])
    // a manual sync asks for everything at once
    write(3)
    let eagerNeeds: number[] = []
    await portC.eager(async () => { eagerNeeds = pull() })
    expect(eagerNeeds).toEqual([18, 19, 20])
    expect(c.gapCount()).toBe(0)
    for (const s of [a, c]) s.close()
  })
})

describe('aged heads', () => {
  it('reports the best head seen at least the grace period ago, and forgets older ones', () => {
    const h = new AgedHeads(100)
    expect(h.aged('x', 0)).toBe(0)
    h.observe('x', 5, 0)
    expect(h.aged('x', 0)).toBe(5) // first seen just now: all of it
    h.observe('x', 3, 10) // a lower head later changes nothing
    h.observe('x', 9, 50)
    expect(h.aged('x', 99)).toBe(0)
    expect(h.aged('x', 100)).toBe(5)
    expect(h.aged('x', 149)).toBe(5)
    expect(h.aged('x', 150)).toBe(9)
    h.observe('x', 12, 400)
    expect(h.aged('x', 450)).toBe(9)
    expect(h.aged('y', 450)).toBe(0)
  })

  it('clips a summary to a head, with its gaps and partial versions', () => {
    const actor = new Uint8Array(16)
    const s = { actor, head: 20, gaps: [[3, 4], [8, 12], [15, 16]] as [number, number][], partials: [{ version: 9, seqs: [[0, 1]] as [number, number][], lastSeq: 5 }, { version: 16, seqs: [[0, 0]] as [number, number][], lastSeq: 2 }] }
    expect(clipSummary(s, 25)).toBe(s)
    expect(clipSummary(s, 10)).toEqual({ actor, head: 10, gaps: [[3, 4], [8, 10]], partials: [s.partials[0]] })
  })
})

import { describe, it, expect } from 'vitest'
import { openStore, decodeNeeds } from '@patina/crdt-store'
import { IN_FLIGHT_VERSIONS, createSyncPort, settledNeeds } from '../src/adapters/sync-port.ts'
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

    // round 1 asks only for what cannot still be in flight: a's versions up to 50 − 32, none of b's
    const first = portC.needs([{ peer: 'A', summary: portA.summary() }, { peer: 'B', summary: portB.summary() }])
    expect(first.map(n => n.peer)).toEqual(['A'])
    expect(decodeNeeds(first[0]!.needs).actors[0]!.full).toEqual([[1, 50 - IN_FLIGHT_VERSIONS]])
    // a round later the rest counts as lost: everything is asked for
    const needs = portC.needs([{ peer: 'A', summary: portA.summary() }, { peer: 'B', summary: portB.summary() }])
    const byPeer = new Map(needs.map(n => [n.peer, decodeNeeds(n.needs)]))
    // a's actor is asked from A (highest head), b's actor from B: disjoint
    const actorsOf = (p: string): string[] => (byPeer.get(p)?.actors ?? []).map(x => Buffer.from(x.actor).toString('hex')).sort()
    expect(actorsOf('A')).toEqual([Buffer.from(a.siteId).toString('hex')])
    expect(actorsOf('B')).toEqual([Buffer.from(b.siteId).toString('hex')])
    expect(byPeer.get('A')!.actors[0]!.full).toEqual([[1, 50]])

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

  it('leaves versions that may still be in flight by broadcast for a later round', () => {
    const actor = new Uint8Array(16).fill(1)
    const key = Buffer.from(actor).toString('hex')
    const needs = { actors: [{ actor, full: [[1, 10], [90, 100]] as [number, number][], partial: [{ version: 80, seqs: [[0, 3]] as [number, number][] }, { version: 99, seqs: [[2, 2]] as [number, number][] }] }] }
    const heads = new Map([[key, { head: 100 }]])
    // nothing seen before: up to head − 32 = 68
    expect(settledNeeds(needs, heads, new Map()).actors[0]).toEqual({ actor, full: [[1, 10]], partial: [] })
    // a peer showed head 95 a round ago: up to 95
    expect(settledNeeds(needs, heads, new Map([[key, 95]])).actors[0]).toEqual({ actor, full: [[1, 10], [90, 95]], partial: [{ version: 80, seqs: [[0, 3]] }] })
    // an actor with only in-flight needs is left out entirely
    expect(settledNeeds({ actors: [{ actor, full: [[99, 100]], partial: [] }] }, heads, new Map()).actors).toEqual([])
  })
})

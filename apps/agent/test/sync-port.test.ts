import { describe, it, expect } from 'vitest'
import { openStore, decodeNeeds } from '@patina/crdt-store'
import { createSyncPort } from '../src/adapters/sync-port.ts'
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
})

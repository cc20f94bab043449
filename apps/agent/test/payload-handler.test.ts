import { describe, it, expect } from 'vitest'
import { Registry } from 'prom-client'
import { openStore, encodeChangeset } from '@patina/crdt-store'
import type { Changeset } from '@patina/crdt-store'
import type { ReceivedPayload } from '@patina/quic-gossip'
import { createPayloadHandler } from '../src/adapters/payload-handler.ts'
import { changesetKey } from '../src/adapters/sync-port.ts'
import { PartitionFilter } from '../src/adapters/partition.ts'
import { LagWindow, createMetrics } from '../src/metrics.ts'
import { createLogger } from '../src/logger.ts'

const SCHEMA = 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);'

function store () {
  const s = openStore({ path: ':memory:' })
  s.applySchema(SCHEMA)
  return s
}

const item = (cs: Changeset, from = 'peer-a'): ReceivedPayload => ({ payload: encodeChangeset(cs), meta: { key: changesetKey(cs), from } })

async function applied (registry: Registry, result: string): Promise<number> {
  const m = (await registry.getSingleMetric('patina_changesets_applied_total')?.get())?.values ?? []
  return m.find(v => v.labels.result === result && v.labels.source === 'gossip')?.value ?? 0
}

describe('gossip payload handler over a real store', () => {
  it('applies every frame of one event-loop turn in one transaction, after the turn', async () => {
    const origin = store()
    const changesets = Array.from({ length: 6 }, (_, i) => origin.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, `v${i}`] }]).changesets[0]!)
    const target = store()
    const batches: number[] = []
    const counted = { applyBatch: (list: readonly Changeset[]) => { batches.push(list.length); return target.applyBatch(list) } }
    const registry = new Registry()
    let deferred: (() => void) | undefined
    const handle = createPayloadHandler({
      store: counted,
      guard: fn => fn(),
      partition: new PartitionFilter(),
      metrics: createMetrics({ registry }),
      lag: new LagWindow(),
      logger: createLogger({ format: 'json', level: 'silent' }),
      now: () => Date.now(),
      defer: fn => { deferred = fn }
    })
    // three frames in one turn: every decodable changeset may be re-broadcast at once
    expect(handle(changesets.slice(0, 2).map(cs => item(cs)))).toEqual([true, true])
    expect(handle(changesets.slice(2, 5).map(cs => item(cs)))).toEqual([true, true, true])
    expect(handle([item(changesets[5]!), { payload: new Uint8Array([1, 2, 3]), meta: { key: 'junk', from: 'peer-a' } }])).toEqual([true, false])
    // nothing is written until the turn is over, then all of it in one batch
    expect(batches).toEqual([])
    expect(target.readAll('SELECT count(*) FROM t').rows[0]![0]).toBe(0)
    deferred!()
    expect(batches).toEqual([6])
    expect(target.readAll('SELECT count(*) FROM t').rows[0]![0]).toBe(6)
    expect(await applied(registry, 'new')).toBe(6)
    // a changeset already here is counted as known
    handle([item(changesets[0]!)])
    deferred!()
    expect(await applied(registry, 'known')).toBe(1)
    origin.close()
    target.close()
  })

  it('drops partitioned senders, and flush() applies what is pending (on stop)', () => {
    const origin = store()
    const cs = origin.transaction([{ sql: 'INSERT INTO t VALUES (1, ?)', params: ['x'] }]).changesets[0]!
    const target = store()
    const partition = new PartitionFilter()
    partition.block(['peer-x'])
    let scheduled = 0
    const handle = createPayloadHandler({
      store: target,
      guard: fn => fn(),
      partition,
      metrics: createMetrics({ registry: new Registry() }),
      lag: new LagWindow(),
      logger: createLogger({ format: 'json', level: 'silent' }),
      now: () => Date.now(),
      defer: () => { scheduled++ }
    })
    expect(handle([item(cs, 'peer-x')])).toEqual([false])
    expect(scheduled).toBe(0)
    expect(handle([item(cs)])).toEqual([true])
    expect(scheduled).toBe(1)
    handle.flush()
    expect(target.readAll('SELECT v FROM t WHERE id = 1').rows).toEqual([['x']])
    origin.close()
    target.close()
  })
})

describe('apply-lag window', () => {
  it('keeps a bounded number of samples and the p99 of the recent ones', () => {
    const w = new LagWindow(60_000)
    expect(w.p99(0)).toBeNull()
    // 300k samples, one per ms: the oldest are dropped in halves, the window keeps the last 60 s
    for (let i = 0; i < 300_000; i++) w.add(i, i >= 299_000 ? 1 : 0.001)
    expect(w.p99(300_000)).toBe(1)
    for (let i = 0; i < 1000; i++) w.add(400_000 + i, 0.002)
    // everything before 340 s fell out of the window
    expect(w.p99(400_999)).toBe(0.002)
  })
})

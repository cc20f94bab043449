import { describe, it, expect, afterEach } from 'vitest'
import { createCluster, type Cluster } from '../../../tools/cluster/src/index.ts'

// Five real `patina agent` processes: concurrent writes through all of them while one is killed with -9
// and restarted and another is partitioned and healed.
const SCHEMA = 'CREATE TABLE kv (k INTEGER NOT NULL PRIMARY KEY, node INTEGER NOT NULL DEFAULT 0, v INTEGER);\n' +
  'CREATE TABLE shared (k INTEGER NOT NULL PRIMARY KEY, v INTEGER);\n' +
  'CREATE TABLE bulk (k INTEGER NOT NULL PRIMARY KEY, node INTEGER NOT NULL DEFAULT 0, body TEXT);\n'

let cluster: Cluster | undefined
afterEach(async () => { await cluster?.destroy(); cluster = undefined })

describe('multi-process cluster', () => {
  it('converges after concurrent writes with a kill -9 + restart and a partition + heal', async () => {
    const c = cluster = await createCluster({ nodes: 5, schema: SCHEMA })
    await c.start()
    const acked = new Map<number, number>() // kv key → value, acknowledged by some node
    const bulkAcked: number[] = [] // first key of each acknowledged 1000-row transaction
    const sharedTried: Array<{ k: number; v: number }> = [] // a killed node may commit without answering
    const stopAt = Date.now() + 8000
    let stop = false
    const writer = async (i: number): Promise<void> => {
      for (let seq = 0; seq < 400 && !stop && Date.now() < stopAt; seq++) {
        const k = i * 1_000_000 + seq
        const sharedKey = seq % 5
        const v = seq * 10 + i
        sharedTried.push({ k: sharedKey, v })
        // now and then a large transaction: chunked into many changesets, buffered as partial versions
        if (seq % 100 === 50) {
          const base = (i * 1000 + seq) * 1000
          await c.exec(i, [[`WITH RECURSIVE s(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM s WHERE x < 999) INSERT INTO bulk (k, node, body) SELECT ${base} + x, ${i}, printf('%0100d', x) FROM s`, []]], { signal: AbortSignal.timeout(5000) }).then(() => { bulkAcked.push(base) }, () => {})
        }
        try {
          const body = await c.exec(i, [
            ['INSERT INTO kv (k, node, v) VALUES (?, ?, ?)', [k, i, v]],
            ['INSERT INTO shared (k, v) VALUES (?, ?) ON CONFLICT (k) DO UPDATE SET v = excluded.v', [sharedKey, v]]
          ], { signal: AbortSignal.timeout(5000) })
          if (body.results.every(r => r.error === undefined)) {
            acked.set(k, v)
          }
        } catch {
          // node down or partitioned client side: not acknowledged, so nothing is promised
          await new Promise(resolve => setTimeout(resolve, 50))
        }
      }
    }
    const chaos = async (): Promise<void> => {
      await waitUntil(() => acked.size >= 100)
      await c.kill9(3)
      await c.partition([4], [0, 1, 2, 3])
      // the partition is real: node 0 stops seeing node 4 as alive
      const isolated = c.nodes[4]!.actorId
      await waitUntilAsync(async () => {
        const members = (await c.admin(0, { Cluster: 'Members' }))[0] as Array<{ id: string; state: string }>
        return members.find(m => m.id === isolated)?.state !== 'alive'
      })
      partitionSeenAt = acked.size
      await waitUntil(() => acked.size >= 400)
      await c.startNode(3)
      await waitUntil(() => acked.size >= 700)
      await c.heal()
    }
    let partitionSeenAt = -1
    const chaosDone = chaos().then(() => undefined, (err: unknown) => err)
    await Promise.all([0, 1, 2, 3, 4].map(writer))
    stop = true
    const chaosError = await chaosDone
    if (chaosError !== undefined) throw chaosError
    expect(partitionSeenAt).toBeGreaterThan(0)
    await c.heal()
    const hash = await c.waitConverged({ timeoutMs: 90_000 })
    expect(hash).toMatch(/^[0-9a-f]{64}$/)
    // every acknowledged write is present on every node (kv keys are never overwritten)
    for (const i of [0, 1, 2, 3, 4]) {
      const rows = await c.query(i, 'SELECT k, v FROM kv')
      const have = new Map(rows.map(r => [r[0] as number, r[1] as number]))
      const missing = [...acked].filter(([k, v]) => have.get(k) !== v)
      expect(missing, `node ${i} misses acknowledged writes`).toEqual([])
      // large transactions arrive whole
      const bulk = await c.query(i, 'SELECT k / 1000 * 1000 AS base, count(*) FROM bulk GROUP BY base')
      const counts = new Map(bulk.map(r => [r[0] as number, r[1] as number]))
      for (const base of bulkAcked) expect(counts.get(base), `node ${i}, bulk ${base}`).toBe(1000)
      // shared keys, written concurrently everywhere: one merged winner that some node wrote
      const shared = await c.query(i, 'SELECT k, v FROM shared')
      expect(shared.length).toBe(5)
      for (const [k, v] of shared) expect(sharedTried.some(s => s.k === k && s.v === v)).toBe(true)
    }
    expect(acked.size).toBeGreaterThan(700)
    expect(bulkAcked.length).toBeGreaterThan(0)
    // SIGTERM is a graceful leave: the others see the node as left, not down
    expect(await c.stopNode(4)).toBe(0)
    const leftId = c.nodes[4]!.actorId
    await waitUntilAsync(async () => {
      const members = (await c.admin(0, { Cluster: 'Members' }))[0] as Array<{ id: string; state: string }>
      return members.find(m => m.id === leftId)?.state === 'left'
    })
  }, 180_000)
})

async function waitUntil (pred: () => boolean, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!pred()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

async function waitUntilAsync (pred: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!await pred()) {
    if (Date.now() > deadline) throw new Error('timed out')
    await new Promise(resolve => setTimeout(resolve, 100))
  }
}

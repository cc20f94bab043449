import { describe, it, expect, afterEach } from 'vitest'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { createCluster, sumSamples, type Cluster } from '../../../tools/cluster/src/index.ts'
import { runPatina } from './support/cli.ts'

const SCHEMA = 'CREATE TABLE item (id INTEGER NOT NULL PRIMARY KEY, name TEXT, qty INTEGER NOT NULL DEFAULT 0);\n'

let cluster: Cluster | undefined
afterEach(async () => { await cluster?.destroy(); cluster = undefined })

describe('catch-up and backup/restore', () => {
  it('a node started empty after 10k writes catches up; backup then restore on a fresh node joins and converges', async () => {
    const c = cluster = await createCluster({ nodes: 4, schema: SCHEMA, metrics: true })
    await c.startNode(0)
    await c.startNode(1)
    // 10k writes: 500 transactions of 20 inserts, through both running nodes
    for (let t = 0; t < 500; t++) {
      const statements = Array.from({ length: 20 }, (_, j) => ['INSERT INTO item (id, name, qty) VALUES (?, ?, ?)', [t * 20 + j, `item ${t * 20 + j}`, j]])
      const body = await c.exec(t % 2, statements)
      expect(body.results.every(r => r.error === undefined)).toBe(true)
    }
    const hash01 = await c.waitConverged({ nodes: [0, 1], timeoutMs: 60_000 })

    // late joiner: empty database, catches up through sync
    await c.startNode(2)
    expect(await c.waitConverged({ nodes: [0, 1, 2], timeoutMs: 90_000 })).toBe(hash01)
    expect((await c.content(2)).rows).toBe(10_000)
    // all 500 versions came by anti-entropy (their broadcast was long over), none by gossip
    const m2 = await c.metrics(2)
    expect(sumSamples(m2, 'patina_changesets_applied_total', { source: 'sync', result: 'new' })).toBe(500)
    expect(sumSamples(m2, 'patina_changesets_applied_total', { source: 'gossip' })).toBe(0)

    // backup through the running node 0, restore into node 3 (not running), start it
    const snapshot = join(c.baseDir, 'snapshot.db')
    const backup = await runPatina(['-c', c.nodes[0]!.configPath, 'backup', snapshot, '--json'])
    expect(backup.code, backup.stderr).toBe(0)
    expect(existsSync(snapshot)).toBe(true)
    // restore refuses while a node runs on that admin socket
    const refused = await runPatina(['-c', c.nodes[1]!.configPath, 'restore', snapshot])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/running/)
    const restore = await runPatina(['-c', c.nodes[3]!.configPath, 'restore', snapshot, '--json'])
    expect(restore.code, restore.stderr).toBe(0)
    const restoredActor = (JSON.parse(restore.stdout) as { actor: string }).actor
    expect(restoredActor).not.toBe(c.nodes[0]!.actorId)
    await c.startNode(3)
    expect(c.nodes[3]!.actorId).toBe(restoredActor)
    // writes made after the snapshot reach the restored node too
    await c.exec(1, [['INSERT INTO item (id, name) VALUES (?, ?)', [20_000, 'after backup']]])
    await c.exec(3, [['UPDATE item SET qty = 99 WHERE id = ?', [5]]])
    const hash = await c.waitConverged({ timeoutMs: 90_000 })
    expect(hash).not.toBe(hash01)
    expect((await c.content(3)).rows).toBe(10_001)
    const members = (await c.admin(3, { Cluster: 'Members' }))[0] as Array<{ state: string }>
    expect(members.filter(m => m.state === 'alive').length).toBe(4)
  }, 240_000)

  it('a node brought back from an older snapshot of itself takes its later versions back before it writes again', async () => {
    const c = cluster = await createCluster({ nodes: 3, schema: SCHEMA })
    await c.start()
    const write = async (node: number, from: number, n: number): Promise<void> => {
      for (let i = from; i < from + n; i++) {
        const body = await c.exec(node, [['INSERT INTO item (id, name) VALUES (?, ?)', [i, `n${node} ${i}`]]])
        expect(body.results.every(r => r.error === undefined)).toBe(true)
      }
    }
    await write(1, 0, 20)
    const snapshot = join(c.baseDir, 'self.db')
    const backup = await runPatina(['-c', c.nodes[1]!.configPath, 'backup', snapshot, '--keep-actor-id', '--json'])
    expect(backup.code, backup.stderr).toBe(0)
    // versions 21..40 of node 1 exist only after the snapshot
    await write(1, 100, 20)
    await c.waitConverged({ timeoutMs: 60_000 })
    expect(await c.stopNode(1)).toBe(0)
    const restore = await runPatina(['-c', c.nodes[1]!.configPath, 'restore', snapshot, '--keep-actor-id', '--json'])
    expect(restore.code, restore.stderr).toBe(0)
    await c.startNode(1)
    // written straight after the restart: these must get versions 41.., not 21..
    await write(1, 200, 10)
    const hash = await c.waitConverged({ timeoutMs: 60_000 })
    for (const n of [0, 1, 2]) {
      expect((await c.content(n)).rows, `node ${n}`).toBe(50)
      expect((await c.content(n)).hash).toBe(hash)
    }
  }, 180_000)
})

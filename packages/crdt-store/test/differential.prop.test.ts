/**
 * Randomised differential tests against the real cr-sqlite (WASM build):
 * - random concurrent writes (no primary-key changes: upstream cr-sqlite mishandles them and Patina
 *   deliberately takes the fork's fix), random syncs and out-of-order deliveries of single
 *   transactions, on both engines with the same site ids; after every sync or delivery the
 *   receiving replica must agree with its oracle twin, and after a full sync everything must agree;
 * - interop both ways: cr-sqlite merging a Patina replica's `crsql_changes`, and Patina merging a
 *   cr-sqlite replica's rows regrouped as per-actor versions, must rebuild the same tables.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { openStore } from '../src/index.ts'
import { type OracleChange, createOracleDb } from './oracle/crsqlite-oracle.ts'
import { type Tx, createWorld, patinaContents } from './oracle/differential-world.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, RANDOM_TABLES, txArb } from './oracle/random-ops.ts'
import { fromTypeof, text } from './oracle/typed-value.ts'

// INSERT OR REPLACE is included (FINDINGS.md F2 is fixed); primary-key changes are not (see above).
const DIFF_OPS = { replace: true }

const stepArb = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('write' as const), at: fc.nat(), tx: txArb(DIFF_OPS) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('sync' as const), from: fc.nat(), to: fc.nat() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('deliver' as const), which: fc.nat(), to: fc.nat() }) }
)

describe('differential (random)', () => {
  test('random writes and syncs agree with cr-sqlite', async () => {
    await fc.assert(fc.asyncProperty(fc.integer({ min: 2, max: 3 }), fc.array(stepArb, { minLength: 1, maxLength: 20 }), async (n, steps) => {
      const w = await createWorld({ size: n, schema: RANDOM_SCHEMA, tables: RANDOM_TABLES, chunkBytes: 256, sortSites: true })
      try {
        const txs: Tx[] = []
        for (const [k, step] of steps.entries()) {
          if (step.kind === 'write') {
            txs.push(await w.write(step.at % n, step.tx))
          } else if (step.kind === 'deliver') {
            // Broadcast path: one past transaction, possibly stale or already known, reaches a replica.
            const tx = txs[step.which % Math.max(1, txs.length)]
            if (tx === undefined) continue
            const to = step.to % n
            await w.deliver(tx, to)
            await w.check(to, `step ${k}: after delivering a transaction of ${tx.origin} to ${to}`)
          } else {
            const from = step.from % n
            const to = step.to % n
            if (from === to) continue
            await w.sync(from, to)
            await w.check(to, `step ${k}: after sync ${from} -> ${to}`)
          }
        }
        await w.syncAll()
        await w.checkConverged('final')
      } finally {
        await w.close()
      }
    }), fcParams(60))
  }, PROP_TIMEOUT)
})

describe('interop: Patina change rows merged by cr-sqlite', () => {
  test('the real cr-sqlite rebuilds the same tables from a Patina replica\'s crsql_changes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), txArb({ pkChanges: true })), { minLength: 1, maxLength: 12 }), async steps => {
      let t = 1_700_000_000_000
      const stores = [0, 1].map(() => { const s = openStore({ path: ':memory:', now: () => t++ }); s.applySchema(RANDOM_SCHEMA); return s })
      const oracle = await createOracleDb()
      try {
        for (const [who, tx] of steps) {
          const s = stores[who % 2]!
          const res = s.transaction(tx.map(sql => ({ sql })))
          for (const cs of res.changesets) stores[1 - (who % 2)]!.apply(cs)
        }
        for (const sql of RANDOM_SCHEMA) await oracle.exec(sql)
        for (const name of RANDOM_TABLES) await oracle.exec('SELECT crsql_as_crr(?)', [text(name)])
        // Every crsql_changes row of replica 0, as cr-sqlite would receive it from a peer.
        const cur = stores[0]!.read('SELECT "table", pk, cid, typeof(val), val, col_version, db_version, site_id, cl, seq FROM crsql_changes')
        const rows: OracleChange[] = [...cur.rows].map(r => ({
          table: String(r[0]), pk: r[1] as Uint8Array, cid: String(r[2]), val: fromTypeof(r[3], r[4]),
          colVersion: BigInt(r[5] as number | bigint), dbVersion: BigInt(r[6] as number | bigint), siteId: r[7] as Uint8Array,
          cl: BigInt(r[8] as number | bigint), seq: BigInt(r[9] as number | bigint)
        }))
        await oracle.merge(rows)
        for (const name of RANDOM_TABLES) expect(await oracle.selectAll(name), name).toEqual(patinaContents(stores[0]!, name))
      } finally {
        for (const s of stores) s.close()
        await oracle.close()
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)
})

describe('interop: cr-sqlite change rows merged by Patina', () => {
  test('a Patina store rebuilds the same tables from a cr-sqlite replica\'s crsql_changes', async () => {
    await fc.assert(fc.asyncProperty(fc.array(fc.tuple(fc.nat(), txArb(DIFF_OPS)), { minLength: 1, maxLength: 12 }), async steps => {
      const oracles = [await createOracleDb(), await createOracleDb()]
      const store = openStore({ path: ':memory:' })
      try {
        store.applySchema(RANDOM_SCHEMA)
        for (const o of oracles) {
          for (const sql of RANDOM_SCHEMA) await o.exec(sql)
          for (const name of RANDOM_TABLES) await o.exec('SELECT crsql_as_crr(?)', [text(name)])
        }
        for (const [who, tx] of steps) {
          const o = oracles[who % 2]!
          const before = await o.changesSince(0)
          const since = before.reduce((m, c) => (c.dbVersion > m ? c.dbVersion : m), 0n)
          await o.exec('BEGIN')
          for (const sql of tx) await o.exec(sql)
          await o.exec('COMMIT')
          await oracles[1 - (who % 2)]!.merge(await o.changesSince(since))
        }
        // Replica 0's rows, regrouped as per-actor versions: each (site, db_version) becomes the
        // next version of that actor, seqs renumbered inside it.
        const rows = await oracles[0]!.changesSince(-1)
        const bySite = new Map<string, OracleChange[]>()
        for (const r of rows) {
          const k = Buffer.from(r.siteId).toString('hex')
          bySite.set(k, [...(bySite.get(k) ?? []), r])
        }
        for (const list of bySite.values()) {
          const dbvs = [...new Set(list.map(r => r.dbVersion))].sort((a, b) => (a < b ? -1 : 1))
          dbvs.forEach((dbv, i) => {
            const version = i + 1
            const mine = list.filter(r => r.dbVersion === dbv).sort((a, b) => (a.seq < b.seq ? -1 : a.seq > b.seq ? 1 : 0))
            const actor = mine[0]!.siteId
            store.apply({
              actor, version, seqs: [0, mine.length - 1], lastSeq: mine.length - 1, ts: 1n,
              changes: mine.map((r, seq) => ({
                table: r.table, pk: r.pk, cid: r.cid,
                val: r.val.type === 'null' ? null : r.val.value,
                colVersion: Number(r.colVersion), dbVersion: version, siteId: actor, cl: Number(r.cl), seq
              }))
            })
          })
        }
        for (const name of RANDOM_TABLES) expect(patinaContents(store, name), name).toEqual(await oracles[0]!.selectAll(name))
      } finally {
        store.close()
        for (const o of oracles) await o.close()
      }
    }), fcParams(40))
  }, PROP_TIMEOUT)
})

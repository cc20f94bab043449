/**
 * Randomised differential test: random concurrent writes (no primary-key changes: upstream
 * cr-sqlite mishandles them and Patina deliberately takes the fork's fix) and random syncs and out-of-order deliveries of single transactions, run on
 * the real cr-sqlite and on Patina stores with the same site ids. After every sync the receiving
 * replica must agree with its oracle twin; at the end, after a full sync, everything must agree.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, test } from 'vitest'
import { type Tx, createWorld } from './oracle/differential-world.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, RANDOM_TABLES, txArb } from './oracle/random-ops.ts'

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

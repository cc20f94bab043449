/**
 * Online backup: whatever writes and merges happen while `backup()` copies pages, the copy opened as
 * a store has the source's data and `crsql_changes` as of the moment the backup finished, and it
 * can sync with the source afterwards. Replay a failure with FC_SEED.
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { snapshot } from './oracle/store-snapshot.ts'

let dir = ''
beforeAll(() => { dir = mkdtempSync(join(tmpdir(), 'patina-backup-')) })
afterAll(() => { rmSync(dir, { recursive: true, force: true }) })
let n = 0

describe('backup', () => {
  test('a backup taken during writes is a consistent copy that can sync with its source', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(txArb({ pkChanges: true }), { minLength: 1, maxLength: 6 }),
      fc.array(txArb(), { maxLength: 4 }),
      async (before, during) => {
        const src = openStore({ path: join(dir, `s${n}.db`) })
        const peer = openStore({ path: ':memory:' })
        const dest = join(dir, `b${n++}.db`)
        let copy: CrdtStore | undefined
        try {
          src.applySchema(RANDOM_SCHEMA)
          peer.applySchema(RANDOM_SCHEMA)
          // Enough rows that the copy takes several steps.
          src.transaction([{ sql: "WITH RECURSIVE s(i) AS (SELECT 100 UNION ALL SELECT i + 1 FROM s WHERE i < 1600) INSERT INTO t (id, a) SELECT i, printf('%0800d', i) FROM s" }])
          for (const tx of before) src.transaction(tx.map(sql => ({ sql })))
          const pending = [...during]
          let interleaved = 0
          const peerTx = peer.transaction([{ sql: "INSERT OR IGNORE INTO tags (k) VALUES ('from-peer')" }]).changesets
          await src.backup(dest, {
            progress: (done, total) => {
              // Local writes and a merge between backup steps, on the source connection (not after
              // the last step: the copy is complete by then).
              if (done >= total) return
              interleaved++
              const tx = pending.shift()
              if (tx !== undefined) src.transaction(tx.map(sql => ({ sql })))
              else for (const cs of peerTx) src.apply(cs)
            }
          })
          expect(interleaved, 'the backup finished in one step: nothing was interleaved').toBeGreaterThan(0)
          copy = openStore({ path: dest })
          expect(snapshot(copy)).toEqual(snapshot(src))
          // The copy and the source can exchange whatever either lacks and agree.
          for (const cs of src.serve(copy.needs(src.summary()))) copy.apply(cs)
          expect(snapshot(copy).tables).toEqual(snapshot(src).tables)
        } finally {
          copy?.close()
          src.close()
          peer.close()
        }
      }), fcParams(6))
  }, PROP_TIMEOUT)
})

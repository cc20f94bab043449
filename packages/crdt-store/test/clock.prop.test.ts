/**
 * The hybrid logical clock as the store uses it: every local version gets a timestamp greater than
 * every timestamp this store produced or received before, whatever the physical clock does (stand
 * still, jump back), and received versions keep their origin's timestamp in `crsql_changes.ts`.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Changeset, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { changeRows } from './oracle/store-snapshot.ts'

const SCHEMA = ['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a)']

describe('hybrid logical clock in the store', () => {
  test('local versions get strictly increasing timestamps past everything received', () => {
    fc.assert(fc.property(
      fc.array(fc.oneof(
        fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: -5000, max: 5000 }) }),
        fc.record({ kind: fc.constant('write' as const), at: fc.integer({ min: 0, max: 1 }) }),
        fc.record({ kind: fc.constant('remote' as const), ahead: fc.bigInt({ min: -(2n ** 40n), max: 2n ** 40n }) })
      ), { minLength: 1, maxLength: 30 }),
      steps => {
        let phys = 1_700_000_000_000
        const a = openStore({ path: ':memory:', now: () => phys })
        const b = openStore({ path: ':memory:', now: () => 1_700_000_000_000 })
        try {
          a.applySchema(SCHEMA)
          b.applySchema(SCHEMA)
          let maxSeen = 0n
          let remoteVersion = 0
          let id = 0
          for (const st of steps) {
            if (st.kind === 'tick') phys += st.ms
            else if (st.kind === 'write') {
              const res = a.transaction([{ sql: 'INSERT INTO t (id, a) VALUES (?, ?)', params: [++id, st.at] }])
              const ts = res.changesets[0]!.ts
              expect(ts > maxSeen, `local ts ${ts} not above ${maxSeen}`).toBe(true)
              maxSeen = ts
              for (const cs of res.changesets) expect(cs.ts).toBe(ts)
            } else {
              const base = maxSeen > 0n ? maxSeen : 1n << 32n
              const ts = base + st.ahead > 0n ? base + st.ahead : 1n
              const cs: Changeset = { actor: b.siteId, version: ++remoteVersion, seqs: [0, 0], lastSeq: 0, ts, changes: [{ table: 't', pk: Uint8Array.of(1, 0x11, 0x27, 0x10 + (remoteVersion % 200)), cid: 'a', val: 1n, colVersion: 1, dbVersion: remoteVersion, siteId: b.siteId, cl: 1, seq: 0 }] }
              a.apply(cs)
              if (ts > maxSeen) maxSeen = ts
              // The merged cell carries the origin's timestamp.
              const row = changeRows(a, `WHERE db_version = ${remoteVersion} AND site_id = x'${Buffer.from(b.siteId).toString('hex')}'`)
              expect(row.length).toBe(1)
              expect(row[0]!.split('|')[9]).toBe(String(ts))
            }
          }
        } finally {
          a.close()
          b.close()
        }
      }), fcParams(100))
  }, PROP_TIMEOUT)
})

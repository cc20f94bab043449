/**
 * Chunking properties: a version's changesets cover 0..lastSeq with contiguous, non-overlapping seq
 * ranges; each stays near `chunkBytes` once encoded (a chunk may exceed it only by one change);
 * a receiver shows nothing of a version until its last chunk arrives, whatever the order. Text is
 * measured in UTF-8 bytes, which is what goes on the wire. Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type Change, type Changeset, type CrdtStore, decodeChangeset, encodeChangeset, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { changeRows, snapshot } from './oracle/store-snapshot.ts'
import { hex } from './oracle/typed-value.ts'

const SCHEMA = ['CREATE TABLE doc (id INTEGER PRIMARY KEY NOT NULL, body TEXT, data BLOB, n)']

function pair (chunkBytes: number): [CrdtStore, CrdtStore] {
  const a = openStore({ path: ':memory:', chunkBytes })
  const b = openStore({ path: ':memory:', chunkBytes })
  a.applySchema(SCHEMA)
  b.applySchema(SCHEMA)
  return [a, b]
}

/** Encoded size of a changeset holding just this one change. */
function oneChangeSize (cs: Changeset, c: Change): number {
  return encodeChangeset({ ...cs, seqs: [c.seq, c.seq], changes: [c] }).length
}

function checkChunks (chunks: readonly Changeset[], chunkBytes: number): void {
  expect(chunks.length).toBeGreaterThan(0)
  const lastSeq = chunks[0]!.lastSeq
  let next = 0
  for (const cs of chunks) {
    expect(cs.lastSeq).toBe(lastSeq)
    expect(cs.seqs[0], 'seq ranges are contiguous').toBe(next)
    next = cs.seqs[1] + 1
    for (const c of cs.changes) {
      expect(c.seq).toBeGreaterThanOrEqual(cs.seqs[0])
      expect(c.seq).toBeLessThanOrEqual(cs.seqs[1])
    }
    const size = encodeChangeset(cs).length
    const biggest = Math.max(0, ...cs.changes.map(c => oneChangeSize(cs, c)))
    expect(size, `chunk [${cs.seqs.join(', ')}] of ${cs.changes.length} changes is ${size} bytes (target ${chunkBytes}, biggest single change ${biggest})`).toBeLessThanOrEqual(chunkBytes + biggest + 64)
  }
  expect(next - 1, 'chunks cover 0..lastSeq').toBe(lastSeq)
}

const textArb = fc.oneof(
  fc.string({ maxLength: 300 }),
  // 3 bytes per UTF-16 unit in UTF-8
  fc.integer({ min: 1, max: 400 }).map(n => '中'.repeat(n)),
  // 4 bytes per 2 units
  fc.integer({ min: 1, max: 300 }).map(n => '\u{1F600}'.repeat(n))
)

describe('chunking', () => {
  test('chunks are contiguous, cover the version and stay near chunkBytes (UTF-8 bytes)', () => {
    fc.assert(fc.property(
      fc.constantFrom(256, 1024, 4096),
      fc.array(fc.tuple(textArb, fc.uint8Array({ maxLength: 200 })), { minLength: 1, maxLength: 40 }),
      fc.gen(),
      (chunkBytes, rows, g) => {
        const [a, b] = pair(chunkBytes)
        try {
          const res = a.transaction(rows.map(([body, data], i) => ({ sql: 'INSERT INTO doc (id, body, data, n) VALUES (?, ?, ?, ?)', params: [i + 1, body, data, i] })))
          const chunks = res.changesets
          checkChunks(chunks, chunkBytes)
          // Serve path re-chunks from the current state: same rules.
          const served = [...a.serve(b.needs(a.summary()))]
          checkChunks(served, chunkBytes)
          // Any order: nothing visible until the last chunk is in.
          const order = g(fc.shuffledSubarray, chunks, { minLength: chunks.length })
          order.forEach((cs, k) => {
            const r = b.apply(cs)
            if (k < order.length - 1) {
              expect(r.status).toBe('buffered')
              expect(changeRows(b, `WHERE site_id = x'${hex(a.siteId)}'`)).toEqual([])
              expect(b.read('SELECT count(*) FROM doc').rows.next().value).toEqual([0])
            } else {
              expect(r.status).toBe('applied')
            }
          })
          expect(snapshot(b)).toEqual(snapshot(a))
        } finally {
          a.close()
          b.close()
        }
      }), fcParams(40))
  }, PROP_TIMEOUT)

  test('non-ASCII text is sized in UTF-8 bytes (CJK rows at the default 8 KiB)', () => {
    const [a, b] = pair(8192)
    try {
      const res = a.transaction(Array.from({ length: 30 }, (_, i) => ({ sql: 'INSERT INTO doc (id, body) VALUES (?, ?)', params: [i + 1, '中'.repeat(2600)] })))
      checkChunks(res.changesets, 8192)
    } finally {
      a.close()
      b.close()
    }
  })

  test('a 20,000-row transaction replicates as many small chunks, applied atomically at the end', () => {
    const [a, b] = pair(8192)
    try {
      const res = a.transaction(tx => {
        tx.run("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 20000) INSERT INTO doc (id, body, n) SELECT i, printf('row %d', i), i * 2 FROM s")
        return null
      })
      expect(res.version).toBe(1)
      const chunks = res.changesets
      expect(chunks.length).toBeGreaterThan(20)
      checkChunks(chunks, 8192)
      // Deliver back to front; everything but the first chunk buffers.
      for (const cs of [...chunks].reverse().slice(0, -1)) expect(b.apply(cs).status).toBe('buffered')
      expect(b.read('SELECT count(*) FROM doc').rows.next().value).toEqual([0])
      expect(b.syncStatus()[0]?.partials.length).toBe(1)
      expect(b.apply(chunks[0]!).status).toBe('applied')
      expect(b.read('SELECT count(*), sum(n) FROM doc').rows.next().value).toEqual([20000, 20000 * 20001])
      expect(b.gapCount()).toBe(0)
      expect(b.syncStatus()[0]?.partials).toEqual([])
    } finally {
      a.close()
      b.close()
    }
  })

  test('a cell too big for one message is refused at write time, or it replicates', () => {
    const [a, b] = pair(8192)
    try {
      let res: { version: number | null; changesets: Changeset[] } | undefined
      try {
        // 65 MiB: one cell cannot be split across changesets.
        res = a.transaction([{ sql: 'INSERT INTO doc (id, data) VALUES (1, zeroblob(65 * 1024 * 1024))' }])
      } catch (err) {
        expect(['TransactionTooLargeError', 'SqlError'], (err as Error).message).toContain((err as Error).name)
        expect(b.gapCount()).toBe(0)
        return
      }
      // Accepted: then it must get through the wire like any other version.
      for (const cs of res.changesets) b.apply(decodeChangeset(encodeChangeset(cs)))
      expect(b.read('SELECT length(data) FROM doc WHERE id = 1').rows.next().value).toEqual([65 * 1024 * 1024])
    } finally {
      a.close()
      b.close()
    }
  })
})

import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { startHarness, post, collect } from './support/harness.ts'
import { cellsKey } from '../src/subs/row-diff.ts'

const schema = `
CREATE TABLE users (id INTEGER PRIMARY KEY, name TEXT NOT NULL, grp INTEGER);
CREATE TABLE orders (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, total INTEGER NOT NULL);
`

const queries = [
  'SELECT u.name, o.total FROM users u JOIN orders o ON o.user_id = u.id',
  'SELECT u.id, o.id, o.total FROM users u LEFT JOIN orders o ON o.user_id = u.id',
  'SELECT id, name FROM users u WHERE EXISTS (SELECT 1 FROM orders o WHERE o.user_id = u.id AND o.total > 50)',
  'SELECT id FROM orders WHERE user_id IN (SELECT id FROM users WHERE grp = 1)',
  'SELECT u.id, (SELECT sum(total) FROM orders o WHERE o.user_id = u.id) FROM users u',
  'SELECT user_id, count(*), sum(total) FROM orders GROUP BY user_id',
  'SELECT id, total FROM orders ORDER BY total DESC, id LIMIT 3',
  'SELECT count(*) FROM users',
  'SELECT grp FROM users',
  'SELECT grp, count(*) AS c FROM users GROUP BY grp HAVING c > 1',
  'SELECT u.name FROM users u WHERE u.id NOT IN (SELECT user_id FROM orders)',
  // Row-local: re-read by changed key.
  'SELECT id, name, grp FROM users WHERE grp IS NOT NULL',
  'SELECT o.total * 2, o.id FROM orders o WHERE o.total > 20;',
  'SELECT id, user_id FROM orders -- trailing comment'
]

type Op = [string, unknown[]]
const id = fc.integer({ min: 1, max: 6 })
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.tuple(id, fc.constantFrom('a', 'b', 'c'), fc.option(fc.integer({ min: 0, max: 2 }))).map(([i, n, g]): Op => ['INSERT OR REPLACE INTO users VALUES (?, ?, ?)', [i, n, g]]),
  fc.tuple(id, id, fc.integer({ min: 0, max: 100 })).map(([i, u, t]): Op => ['INSERT OR REPLACE INTO orders VALUES (?, ?, ?)', [i, u, t]]),
  fc.tuple(id, fc.constantFrom('a', 'b', 'd')).map(([i, n]): Op => ['UPDATE users SET name = ? WHERE id = ?', [n, i]]),
  fc.tuple(id, fc.integer({ min: 0, max: 100 })).map(([i, t]): Op => ['UPDATE orders SET total = ? WHERE id = ?', [t, i]]),
  id.map((i): Op => ['DELETE FROM users WHERE id = ?', [i]]),
  id.map((i): Op => ['DELETE FROM orders WHERE id = ?', [i]])
)
const batch = fc.record({ txs: fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 1, maxLength: 4 }), remote: fc.boolean() })


/** Rebuilds a client's view from its events, checking the protocol's invariants on the way. */
function rebuild (events: any[]): { rows: Map<number, unknown[]>, lastChange: number, ready: boolean } {
  const rows = new Map<number, unknown[]>()
  let lastChange = 0
  let ready = false
  for (const e of events) {
    if (e.columns != null) continue
    if (e.error != null) throw new Error(`error event: ${e.error}`)
    if (e.row != null) { rows.set(e.row[0], e.row[1]); continue }
    if (e.eoq != null) { ready = true; lastChange = e.eoq.change_id; continue }
    const [type, rowid, cells, changeId] = e.change
    if (changeId !== lastChange + 1) throw new Error(`change ids not contiguous: ${lastChange} then ${changeId}`)
    lastChange = changeId
    if (type === 'insert') { if (rows.has(rowid)) throw new Error(`insert of existing row id ${rowid}`); rows.set(rowid, cells) }
    else if (type === 'update') { if (!rows.has(rowid)) throw new Error(`update of unknown row id ${rowid}`); rows.set(rowid, cells) }
    else { if (!rows.has(rowid)) throw new Error(`delete of unknown row id ${rowid}`); rows.delete(rowid) }
  }
  return { rows, lastChange, ready }
}

function multiset (rows: Iterable<unknown[]>): string[] {
  return [...rows].map(r => cellsKey(r as never)).sort()
}

async function fresh (url: string, sql: string): Promise<string[]> {
  const text = await (await post(url + '/v1/queries', sql)).text()
  const ev = text.split('\n').filter(l => l !== '').map(l => JSON.parse(l))
  return multiset(ev.filter(e => e.row != null).map(e => e.row[1]))
}

describe('subscription correctness (property)', () => {
  it('client state rebuilt from events equals a fresh run after every batch', async () => {
    const seed = process.env.PATINA_SEED != null ? Number(process.env.PATINA_SEED) : Date.now() % 2 ** 31
    console.log(`subscription property seed: ${seed} (replay with PATINA_SEED=${seed})`)
    await fc.assert(fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 6 }), async (batches) => {
      const h = await startHarness(schema, { subscriptions: { batchDelayMs: 1 } })
      const clients = await Promise.all(queries.map(async q => collect(await post(h.url + '/v1/subscriptions', q))))
      try {
        for (const b of batches) {
          for (const tx of b.txs) {
            if (b.remote) await h.store.applyRemote(tx.map(([sql, params]) => ({ sql, params: params as never })))
            else {
              const res = await post(h.url + '/v1/transactions', tx)
              expect(res.status).toBe(200)
            }
          }
          for (let qi = 0; qi < queries.length; qi++) {
            const want = await fresh(h.url, queries[qi] as string)
            const deadline = Date.now() + 1500
            for (;;) {
              const got = rebuild((clients[qi] as { events: any[] }).events)
              const have = multiset(got.rows.values())
              if (got.ready && JSON.stringify(have) === JSON.stringify(want)) break
              if (Date.now() > deadline) {
                expect({ query: queries[qi], have }, `seed ${seed}`).toEqual({ query: queries[qi], have: want })
              }
              await new Promise(resolve => setImmediate(resolve))
            }
          }
        }
      } finally {
        for (const c of clients) await c.stop()
        await h.close()
      }
    }), { seed, numRuns: 60, endOnFailure: true })
  }, 120_000)
})

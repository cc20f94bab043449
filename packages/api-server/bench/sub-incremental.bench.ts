/**
 * sub-incremental: a subscription over a 50 000-row table; one row is updated per round. Measures
 * the re-evaluation time (commit → change event, in process) of a row-local subscription, which
 * re-reads only the changed key, against the same query made non-row-local (`ORDER BY` on an
 * unindexed column forces a full re-run and diff).
 */
import { createSubscriptionManager } from '../src/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'
import { report } from './http-client.ts'

const ROWS = 50_000
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 30)
const store = createSqliteApiStore({ schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER NOT NULL);' })
store.db.transaction(() => {
  const ins = store.db.prepare('INSERT INTO t VALUES (?, ?, ?)')
  for (let i = 1; i <= ROWS; i++) ins.run(i, 'value ' + i, i % 100)
})()

function measure (sql: string): { ms: number, incremental: boolean } {
  const m = createSubscriptionManager({ store, batchDelayMs: 60_000 })
  m.start()
  try {
    const sub = m.getOrCreate({ sql })
    const times: number[] = []
    for (let r = 1; r <= ROUNDS; r++) {
      void store.transaction([{ sql: 'UPDATE t SET v = ? WHERE id = ?', params: ['round ' + r + sql.length, (r * 997 % (ROWS / 100)) * 100 + 1] }])
      const t0 = performance.now()
      m.flush()
      times.push(performance.now() - t0)
      if (sub.lastChangeId !== r) throw new Error(`expected ${r} changes, saw ${sub.lastChangeId}`)
    }
    times.sort((a, b) => a - b)
    return { ms: times[Math.floor(times.length / 2)] ?? NaN, incremental: sub.incremental }
  } finally { m.stop() }
}

const inc = measure('SELECT id, v, n FROM t WHERE n < 50')
const full = measure('SELECT id, v, n FROM t WHERE n < 50 ORDER BY v')
if (!inc.incremental || full.incremental) throw new Error('unexpected evaluation modes')
report('sub-incremental', `reeval_ms_p50_${ROWS}_rows_one_change`, inc.ms, 'ms', full.ms, inc.ms / full.ms)
store.close()

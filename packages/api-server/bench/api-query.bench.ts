/**
 * api-query: point-lookup queries per second over HTTP (32 concurrent keep-alive clients in a
 * worker thread, NDJSON), against the same lookups through the store directly in this process.
 */
import { createApiServer } from '../src/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'
import { report } from './http-client.ts'
import { runLoad } from './run-load.ts'

const CLIENTS = 32
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const ROWS = 10_000
const MAX_Q = 500_000

const store = createSqliteApiStore({ schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);' })
store.db.transaction(() => {
  const ins = store.db.prepare('INSERT INTO t VALUES (?, ?, ?)')
  for (let i = 1; i <= ROWS; i++) ins.run(i, 'value ' + i, i)
})()

function direct (): number {
  let i = 0
  const end = performance.now() + SECONDS * 1000
  const t0 = performance.now()
  while (performance.now() < end && i < MAX_Q) {
    const cur = store.query({ sql: 'SELECT id, v, n FROM t WHERE id = ?', params: [1 + (i++ % ROWS)] })
    for (const r of cur.rows) void r
    cur.close()
  }
  return i / ((performance.now() - t0) / 1000)
}

const server = createApiServer({ store, addr: '127.0.0.1:0' })
const { port } = await server.start()
try {
  const base = direct()
  const r = await runLoad({ port, kind: 'query', clients: CLIENTS, seconds: SECONDS, max: MAX_Q, rows: ROWS })
  if (r.bad > 0) throw new Error(`${r.bad} queries failed`)
  const rate = r.done / r.seconds
  report('api-query', 'http_point_queries_per_s_32_clients', rate, 'q/s', base, rate / base)
} finally { await server.stop(); store.close() }

/**
 * api-write: single-statement transactions per second over HTTP with 32 concurrent keep-alive
 * clients (in a worker thread), against the same transactions through the store directly in this
 * process.
 */
import { createApiServer } from '../src/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'
import { report } from './http-client.ts'
import { runLoad } from './run-load.ts'

const CLIENTS = 32
const SECONDS = Number(process.env.BENCH_SECONDS ?? 4)
const MAX_TX = 200_000
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL, n INTEGER);'

async function direct (): Promise<number> {
  const store = createSqliteApiStore({ schema })
  try {
    let i = 0
    const end = performance.now() + SECONDS * 1000
    const t0 = performance.now()
    while (performance.now() < end && i < MAX_TX) {
      i++
      await store.transaction([{ sql: 'INSERT INTO t (id, v, n) VALUES (?, ?, ?)', params: [i, 'value ' + i, i] }])
    }
    return i / ((performance.now() - t0) / 1000)
  } finally { store.close() }
}

async function http (): Promise<number> {
  const store = createSqliteApiStore({ schema })
  const server = createApiServer({ store, addr: '127.0.0.1:0' })
  const { port } = await server.start()
  try {
    const r = await runLoad({ port, kind: 'write', clients: CLIENTS, seconds: SECONDS, max: MAX_TX })
    if (r.bad > 0) throw new Error(`${r.bad} transactions failed`)
    return r.done / r.seconds
  } finally { await server.stop(); store.close() }
}

const base = await direct()
const viaHttp = await http()
report('api-write', 'http_tx_per_s_32_clients', viaHttp, 'tx/s', base, viaHttp / base)

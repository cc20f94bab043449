/**
 * Point-lookup queries per second over the PostgreSQL endpoint (pg client, named prepared
 * statement) against the same lookups through the store port in-process.
 */
import pg from 'pg'
import { createPgServer } from '../src/pg/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'

const ROWS = 10_000
const MAX_MS = 8_000
const MAX_QUERIES = 200_000

const store = createSqliteApiStore({ schema: 'CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)' })
const insert = store.db.prepare('INSERT INTO kv (id, name, score) VALUES (?, ?, ?)')
store.db.transaction(() => { for (let i = 1; i <= ROWS; i++) insert.run(i, `name-${i}`, i / 3) })()

let seed = 42
const nextId = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return 1 + (seed % ROWS) }

function inProcess (): number {
  const t0 = performance.now()
  let n = 0
  while (n < MAX_QUERIES && performance.now() - t0 < MAX_MS / 4) {
    const cur = store.query({ sql: 'SELECT id, name, score FROM kv WHERE id = ?', params: [nextId()] })
    for (const row of cur.rows) if (row.length !== 3) throw new Error('bad row')
    n++
  }
  return n / ((performance.now() - t0) / 1000)
}

async function overPg (port: number, clients: number): Promise<number> {
  const conns = await Promise.all(Array.from({ length: clients }, async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'bench', database: 'patina' })
    await c.connect()
    return c
  }))
  const q = { name: 'point', text: 'SELECT id, name, score FROM kv WHERE id = $1' }
  for (const c of conns) await c.query({ ...q, values: [1] })
  const t0 = performance.now()
  let n = 0
  await Promise.all(conns.map(async (c) => {
    while (n < MAX_QUERIES && performance.now() - t0 < MAX_MS / 4) {
      const r = await c.query({ ...q, values: [nextId()] })
      if (r.rows.length !== 1) throw new Error('missing row')
      n++
    }
  }))
  const qps = n / ((performance.now() - t0) / 1000)
  await Promise.all(conns.map(async (c) => c.end()))
  return qps
}

const server = createPgServer({ store, addr: '127.0.0.1:0' })
const { port } = await server.start()
try {
  inProcess() // warm up
  const local = inProcess()
  const one = await overPg(port, 1)
  const four = await overPg(port, 4)
  const line = (metric: string, value: number): void => {
    console.log(JSON.stringify({ bench: 'pg-query', metric, value: Math.round(value), unit: 'queries/s', baseline: Math.round(local), ratio: Number((value / local).toFixed(4)) }))
  }
  line('pg_point_lookup_1_client', one)
  line('pg_point_lookup_4_clients', four)
} finally {
  await server.stop()
  store.close()
}

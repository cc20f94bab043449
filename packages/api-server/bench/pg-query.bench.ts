/**
 * Point-lookup queries per second over the PostgreSQL endpoint (pg client, named prepared
 * statement), against the same lookups through the store port in-process. The two are measured in
 * interleaved slices so that load changes on a shared machine hit both alike.
 */
import pg from 'pg'
import { createPgServer } from '../src/pg/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'

const ROWS = 10_000
const ROUNDS = 8
const SLICE_MS = 250

const store = createSqliteApiStore({ schema: 'CREATE TABLE kv (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL)' })
const insert = store.db.prepare('INSERT INTO kv (id, name, score) VALUES (?, ?, ?)')
store.db.transaction(() => { for (let i = 1; i <= ROWS; i++) insert.run(i, `name-${i}`, i / 3) })()

let seed = 42
const nextId = (): number => { seed = (seed * 1103515245 + 12345) % 2147483648; return 1 + (seed % ROWS) }

/** Runs lookups through the store port for one slice; returns [queries, ms]. */
function localSlice (): [number, number] {
  const t0 = performance.now()
  let n = 0
  while (performance.now() - t0 < SLICE_MS) {
    const cur = store.query({ sql: 'SELECT id, name, score FROM kv WHERE id = ?', params: [nextId()] })
    for (const row of cur.rows) if (row.length !== 3) throw new Error('bad row')
    n++
  }
  return [n, performance.now() - t0]
}

const point = { name: 'point', text: 'SELECT id, name, score FROM kv WHERE id = $1' }

/** Runs lookups over PG on every client for one slice; returns [queries, ms]. */
async function pgSlice (clients: pg.Client[]): Promise<[number, number]> {
  const t0 = performance.now()
  let n = 0
  await Promise.all(clients.map(async (c) => {
    while (performance.now() - t0 < SLICE_MS) {
      const r = await c.query({ ...point, values: [nextId()] })
      if (r.rows.length !== 1) throw new Error('missing row')
      n++
    }
  }))
  return [n, performance.now() - t0]
}

async function measure (port: number, clientCount: number): Promise<{ pgQps: number, localQps: number }> {
  const clients = await Promise.all(Array.from({ length: clientCount }, async () => {
    const c = new pg.Client({ host: '127.0.0.1', port, user: 'bench', database: 'patina' })
    await c.connect()
    await c.query({ ...point, values: [1] })
    return c
  }))
  let pgN = 0; let pgMs = 0; let localN = 0; let localMs = 0
  for (let r = 0; r < ROUNDS; r++) {
    const [a, am] = localSlice()
    localN += a; localMs += am
    const [b, bm] = await pgSlice(clients)
    pgN += b; pgMs += bm
  }
  await Promise.all(clients.map(async (c) => c.end()))
  return { pgQps: pgN / (pgMs / 1000), localQps: localN / (localMs / 1000) }
}

const server = createPgServer({ store, addr: '127.0.0.1:0' })
const { port } = await server.start()
try {
  localSlice() // warm up
  for (const clients of [1, 4]) {
    const { pgQps, localQps } = await measure(port, clients)
    console.log(JSON.stringify({
      bench: 'pg-query',
      metric: `pg_point_lookup_${clients}_client${clients > 1 ? 's' : ''}`,
      value: Math.round(pgQps),
      unit: 'queries/s',
      baseline: Math.round(localQps),
      ratio: Number((pgQps / localQps).toFixed(4))
    }))
  }
} finally {
  await server.stop()
  store.close()
}

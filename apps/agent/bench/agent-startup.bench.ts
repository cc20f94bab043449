// agent-startup: time from spawning `patina agent` to serving /v1/queries, with an empty database and
// with 1M rows (BENCH_ROWS); median of 3 starts each. Ratio: 1M-row start vs empty start.
import { createCluster } from '../../../tools/cluster/src/index.ts'
import { openStore } from '@patina/crdt-store'
import { report, quantile } from './bench-util.ts'

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000)
const RUNS = Number(process.env.BENCH_RUNS ?? 3)
const SCHEMA = 'CREATE TABLE big (k INTEGER NOT NULL PRIMARY KEY, v TEXT);\n'

async function timeToServe (rows: number): Promise<number[]> {
  const cluster = await createCluster({ nodes: 1, schema: SCHEMA, startTimeoutMs: 120_000 })
  try {
    const node = cluster.nodes[0]!
    if (rows > 0) {
      const store = openStore({ path: node.dbPath })
      store.applySchema(SCHEMA)
      for (let from = 1; from <= rows; from += 100_000) {
        const to = Math.min(rows, from + 99_999)
        store.transaction([{ sql: `WITH RECURSIVE s(x) AS (SELECT ${from} UNION ALL SELECT x + 1 FROM s WHERE x < ${to}) INSERT INTO big (k, v) SELECT x, 'value ' || x FROM s` }])
      }
      store.close()
    }
    const times: number[] = []
    for (let run = 0; run < RUNS; run++) {
      const t0 = performance.now()
      const starting = cluster.startNode(0)
      for (;;) {
        try {
          const res = await fetch(`http://${node.apiAddr}/v1/queries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"SELECT count(*) FROM big"' })
          if (res.ok) {
            const text = await res.text()
            const count = /"row":\[\d+,\[(\d+)\]\]/.exec(text)?.[1]
            if (Number(count) !== rows) throw new Error(`expected ${rows} rows, the node reports ${count}`)
            break
          }
        } catch (err) {
          if ((err as Error).message.startsWith('expected')) throw err
        }
        if (performance.now() - t0 > 120_000) throw new Error('agent did not start in 120 s')
        await new Promise(resolve => setTimeout(resolve, 5))
      }
      times.push(performance.now() - t0)
      await starting
      await cluster.stopNode(0)
    }
    return times
  } finally {
    await cluster.destroy()
  }
}

const empty = quantile(await timeToServe(0), 0.5)
report('agent-startup', 'empty_db_ms', empty, 'ms', null, { runs: RUNS })
const full = quantile(await timeToServe(ROWS), 0.5)
report('agent-startup', 'rows_db_ms', full, 'ms', empty, { rows: ROWS, runs: RUNS })

/**
 * sub-fanout: 1000 subscriptions on one node, each with its own HTTP client; one commit changes
 * every subscription's result. Measures commit → the last client's `change` event (p50, p99 over
 * the rounds), against commit → the first client's event. Run twice: 1000 distinct subscriptions
 * (1000 re-evaluations per commit), and 1000 clients of one shared subscription.
 */
import { Agent, request } from 'node:http'
import { createApiServer } from '../src/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'
import { report } from './http-client.ts'

const SUBS = Number(process.env.BENCH_SUBS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 40)

async function run (shared: boolean): Promise<{ first: number[], last: number[] }> {
  const store = createSqliteApiStore({ schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);' })
  await store.transaction([{ sql: 'INSERT INTO t VALUES (1, 0)' }])
  const server = createApiServer({ store, addr: '127.0.0.1:0', subscriptions: { batchDelayMs: 2 } })
  const { port } = await server.start()
  const agent = new Agent({ keepAlive: true, maxSockets: SUBS + 10 })
  let round = 0
  let received = 0
  let firstAt = 0
  let lastAt = 0
  let roundDone: (() => void) | null = null

  const subscribe = (i: number): Promise<void> => new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/subscriptions', agent, headers: { 'content-type': 'application/json' } }, res => {
      if (res.statusCode !== 200) { reject(new Error(`subscription ${i} got HTTP ${res.statusCode ?? 0}`)); return }
      res.setEncoding('utf8')
      let buf = ''
      let seen = 0
      res.on('data', (chunk: string) => {
        buf += chunk
        let k
        while ((k = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, k)
          buf = buf.slice(k + 1)
          if (line.startsWith('{"eoq"')) resolve()
          else if (line.startsWith('{"change"') && seen < round) {
            seen = round
            const now = performance.now()
            if (received === 0) firstAt = now
            lastAt = now
            if (++received === SUBS) roundDone?.()
          }
        }
      })
      res.on('error', reject)
    })
    req.on('error', reject)
    // Distinct: every client its own query over the same row. Shared: one query for all.
    req.end(JSON.stringify([shared ? 'SELECT v FROM t WHERE id = ?' : `SELECT v, ${i} AS k FROM t WHERE id = ?`, [1]]))
  })
  try {
    // In waves below the route's concurrency limit (excess would be shed with 503).
    for (let i = 0; i < SUBS; i += 64) {
      await Promise.all(Array.from({ length: Math.min(64, SUBS - i) }, (_, k) => subscribe(i + k)))
    }
    const last: number[] = []
    const first: number[] = []
    const deadline = performance.now() + 60_000
    for (round = 1; round <= ROUNDS && performance.now() < deadline; round++) {
      received = 0
      const done = new Promise<void>(resolve => { roundDone = resolve })
      const t0 = performance.now()
      await store.transaction([{ sql: 'UPDATE t SET v = ? WHERE id = 1', params: [round] }])
      await done
      last.push(lastAt - t0)
      first.push(firstAt - t0)
    }
    return { first, last }
  } finally {
    agent.destroy()
    await server.stop()
    store.close()
  }
}

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN }
for (const shared of [false, true]) {
  const { first, last } = await run(shared)
  const what = shared ? 'clients_of_1_shared_sub' : 'distinct_subs'
  report('sub-fanout', `commit_to_last_client_p99_${SUBS}_${what}`, pct(last, 0.99), 'ms', pct(first, 0.99), pct(last, 0.99) / pct(first, 0.99))
  report('sub-fanout', `commit_to_last_client_p50_${SUBS}_${what}`, pct(last, 0.5), 'ms', pct(first, 0.5), pct(last, 0.5) / pct(first, 0.5))
}

/**
 * The subscribing clients of `sub-fanout`, run in a worker thread so that parsing 1000 streams does
 * not compete with the server's event loop (clients of a server are other processes). Receives
 * `{ port, subs, shared }`; opens the subscriptions in waves, answers `{ ready: true }` once every
 * stream delivered its `eoq`, then for each round answers `{ round, first, last }`: when the first
 * and the last client received that round's `change` event, as `performance.timeOrigin +
 * performance.now()` (a clock shared with the main thread). Answers `{ error }` on any failure.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { Agent, request } from 'node:http'

interface Job { port: number, subs: number, shared: boolean }
const job = workerData as Job
const agent = new Agent({ keepAlive: true, maxSockets: job.subs + 10 })
const now = (): number => performance.timeOrigin + performance.now()
/** Per round: clients that received it, and first / last receive time. */
const rounds = new Map<number, { n: number, first: number, last: number }>()

function received (round: number): void {
  const t = now()
  let r = rounds.get(round)
  if (r == null) rounds.set(round, r = { n: 0, first: t, last: t })
  r.n++
  r.last = t
  if (r.n === job.subs) {
    rounds.delete(round)
    parentPort?.postMessage({ round, first: r.first, last: r.last })
  }
}

function fail (err: unknown): void {
  parentPort?.postMessage({ error: err instanceof Error ? err.message : String(err) })
}

function subscribe (i: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: job.port, method: 'POST', path: '/v1/subscriptions', agent, headers: { 'content-type': 'application/json' } }, res => {
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
          if (line.startsWith('{"eoq"')) { resolve(); continue }
          if (!line.startsWith('{"change"')) continue
          // A real client parses every event; the round is the new value of `v` (first cell).
          const ev = JSON.parse(line) as { change: [string, number, unknown[], number] }
          const round = Number(ev.change[2][0])
          // Each client counts a round once (a coalesced batch may carry several rounds).
          if (round > seen) { seen = round; received(round) }
        }
      })
      res.on('error', reject)
      res.on('end', () => { fail(new Error(`subscription ${i} ended`)) })
    })
    req.on('error', reject)
    // Distinct: every client its own query over the same row. Shared: one query for all.
    req.end(JSON.stringify([job.shared ? 'SELECT v FROM t WHERE id = ?' : `SELECT v, ${i} AS k FROM t WHERE id = ?`, [1]]))
  })
}

try {
  // In waves below the route's concurrency limit (excess would be shed with 503).
  for (let i = 0; i < job.subs; i += 64) {
    await Promise.all(Array.from({ length: Math.min(64, job.subs - i) }, (_, k) => subscribe(i + k)))
  }
  parentPort?.postMessage({ ready: true })
  parentPort?.on('message', (m: { stop?: boolean }) => {
    if (m.stop === true) { agent.destroy(); parentPort?.close() }
  })
} catch (err) {
  fail(err)
}

/**
 * Load generator for the HTTP benchmarks, run in a worker thread so the client's own CPU cost does
 * not land on the server's event loop. Receives `{ port, kind, clients, seconds, max, rows }`,
 * answers `{ done, bad, seconds }`.
 */
import { parentPort, workerData } from 'node:worker_threads'
import { keepAliveAgent, postText } from './http-client.ts'

interface Job { port: number, kind: 'write' | 'query', clients: number, seconds: number, max: number, rows: number, offset: number }
const job = workerData as Job
const agent = keepAliveAgent(job.clients)
let next = 0
let bad = 0
const end = performance.now() + job.seconds * 1000
const t0 = performance.now()
await Promise.all(Array.from({ length: job.clients }, async () => {
  while (performance.now() < end && next < job.max) {
    const i = ++next
    if (job.kind === 'write') {
      const id = job.offset + i
      const r = await postText(agent, job.port, '/v1/transactions', JSON.stringify([['INSERT INTO t (id, v, n) VALUES (?, ?, ?)', [id, 'value ' + id, id]]]))
      if (r.status !== 200) bad++
    } else {
      const id = 1 + (i % job.rows)
      const r = await postText(agent, job.port, '/v1/queries', JSON.stringify(['SELECT id, v, n FROM t WHERE id = ?', [id]]))
      if (r.status !== 200 || !r.text.includes(`"row":[1,[${id},`)) bad++
    }
  }
}))
agent.destroy()
parentPort?.postMessage({ done: next, bad, seconds: (performance.now() - t0) / 1000 })

// cluster-propagation: 10 agent processes; writes at random nodes; time until each write is visible on
// every node (p50/p99). Arrival is observed through a live subscription on each node (no polling load
// on the agents being measured), then confirmed through /v1/queries on every node. Baseline: the same
// figure on the writing node itself (local commit → visible).
import { createCluster } from '../../../tools/cluster/src/index.ts'
import { report, quantile, visible } from './bench-util.ts'

const NODES = Number(process.env.BENCH_NODES ?? 10)
const WRITES = Number(process.env.BENCH_WRITES ?? 200)
const cluster = await createCluster({ nodes: NODES, schema: 'CREATE TABLE p (k INTEGER NOT NULL PRIMARY KEY, v TEXT);\n', syncIntervalMs: [1000, 3000] })
const abort = new AbortController()
try {
  await cluster.start()
  // let membership settle so every node gossips to all
  const settle = Date.now() + 30_000
  for (;;) {
    const counts = await Promise.all(cluster.nodes.map(async n => ((await cluster.admin(n.index, { Cluster: 'Members' }))[0] as Array<{ state: string }>).filter(m => m.state === 'alive').length))
    if (counts.every(c => c === NODES) || Date.now() > settle) break
    await new Promise(resolve => setTimeout(resolve, 200))
  }
  // one subscription per node; arrival times per key
  const arrivals = cluster.nodes.map(() => new Map<number, number>())
  const waiters = new Set<() => void>()
  await Promise.all(cluster.nodes.map(async n => {
    const res = await fetch(`http://${n.apiAddr}/v1/subscriptions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '"SELECT k FROM p"', signal: abort.signal })
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    let buf = ''
    let ready!: () => void
    const isReady = new Promise<void>(resolve => { ready = resolve })
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read()
          if (done) return
          const now = performance.now()
          buf += decoder.decode(value, { stream: true })
          let nl: number
          while ((nl = buf.indexOf('\n')) >= 0) {
            const ev = JSON.parse(buf.slice(0, nl)) as Record<string, unknown>
            buf = buf.slice(nl + 1)
            if (ev.eoq !== undefined) ready()
            if (ev.change !== undefined) {
              const [, , cells] = ev.change as [string, number, [number]]
              arrivals[n.index]!.set(cells[0], now)
              for (const w of waiters) w()
            }
          }
        }
      } catch { /* aborted at the end */ }
    })()
    await isReady
  }))
  const all: number[] = []
  const local: number[] = []
  const deadline = Date.now() + 60_000
  let done = 0
  for (let i = 0; i < WRITES && Date.now() < deadline; i++) {
    const writer = Math.floor(Math.random() * NODES)
    const t0 = performance.now()
    await cluster.exec(writer, [['INSERT INTO p (k, v) VALUES (?, ?)', [i, `w${i}`]]])
    const complete = (): boolean => arrivals.every(a => a.has(i))
    if (!complete()) {
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => { waiters.delete(check); reject(new Error(`write ${i} did not reach every node in 10 s`)) }, 10_000)
        const check = (): void => { if (complete()) { clearTimeout(timer); waiters.delete(check); resolve() } }
        waiters.add(check)
      })
    }
    const times = arrivals.map(a => (a.get(i) ?? Infinity) - t0)
    all.push(Math.max(...times))
    local.push(times[writer] ?? NaN)
    done++
    // pace the writes a little so they measure latency, not queueing
    await new Promise(resolve => setTimeout(resolve, 10))
  }
  // confirm through /v1/queries on every node
  for (const n of cluster.nodes) {
    for (const k of [0, done - 1]) if (!await visible(n.apiAddr, 'p', k)) throw new Error(`${n.name} does not show key ${k} through /v1/queries`)
  }
  report('cluster-propagation', 'p50_ms', quantile(all, 0.5), 'ms', quantile(local, 0.5), { nodes: NODES, writes: done })
  report('cluster-propagation', 'p99_ms', quantile(all, 0.99), 'ms', quantile(local, 0.99), { nodes: NODES, writes: done, target: 100 })
} finally {
  abort.abort()
  await cluster.destroy()
}

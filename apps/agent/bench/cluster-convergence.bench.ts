// cluster-convergence: ~1000 writes/s spread over 10 nodes for 30 s (BENCH_SECONDS); then the time
// until every node's content hash is equal, and peak RSS per agent. Baseline for the convergence time:
// the sync interval's upper bound. A warm-up of BENCH_WARMUP_SECONDS (15, then 3 more) at the same
// rate comes first, unmeasured. Knobs: BENCH_NODES, BENCH_RATE, BENCH_SECONDS, BENCH_NODE_ARGS (node
// flags for the agents), BENCH_VERBOSE (print each agent's memory figures).
import { availableParallelism } from 'node:os'
import { createCluster, sumSamples } from '../../../tools/cluster/src/index.ts'
import { report, quantile, peakRssMiB, cpuMs } from './bench-util.ts'

const NODES = Number(process.env.BENCH_NODES ?? 10)
const RATE = Number(process.env.BENCH_RATE ?? 1000)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 30)
const WARMUP = Number(process.env.BENCH_WARMUP_SECONDS ?? 15)
const SYNC_MAX_MS = 1000
const cluster = await createCluster({ nodes: NODES, schema: 'CREATE TABLE c (k INTEGER NOT NULL PRIMARY KEY, node INTEGER, v INTEGER);\n', swimPreset: 'local', syncIntervalMs: [300, SYNC_MAX_MS], metrics: true, ...(process.env.BENCH_NODE_ARGS !== undefined ? { nodeArgs: process.env.BENCH_NODE_ARGS.split(' ') } : {}) })
try {
  await cluster.start()
  const idleRss = await Promise.all(cluster.nodes.map(async n => await peakRssMiB(n.pid)))
  const perNode = RATE / NODES
  /** Drives the write load for `seconds`; keys start at `keyBase` within each node's own range. */
  const drive = async (seconds: number, keyBase: number): Promise<{ sent: number, failed: number, skipped: number, latencies: number[] }> => {
    const out = { sent: 0, failed: 0, skipped: 0, latencies: [] as number[] }
    const end = Date.now() + seconds * 1000
    await Promise.all(cluster.nodes.map(async n => {
      // Each node gets its share as a paced open loop (writes are not serialised behind each other's
      // responses), with at most MAX_IN_FLIGHT outstanding per node; a node that falls behind skips.
      const MAX_IN_FLIGHT = 16
      const start = Date.now()
      const inFlight = new Set<Promise<void>>()
      for (let seq = 0; Date.now() < end; seq++) {
        const due = start + (seq * 1000) / perNode
        const wait = due - Date.now()
        if (wait > 0) await new Promise(resolve => setTimeout(resolve, wait))
        if (inFlight.size >= MAX_IN_FLIGHT) { out.skipped++; continue }
        const t0 = performance.now()
        const p: Promise<void> = cluster.exec(n.index, [['INSERT INTO c (k, node, v) VALUES (?, ?, ?)', [n.index * 10_000_000 + keyBase + seq, n.index, seq]]]).then(() => {
          out.sent++
          out.latencies.push(performance.now() - t0)
        }, () => { out.failed++ }).finally(() => { inFlight.delete(p) })
        inFlight.add(p)
      }
      await Promise.all(inFlight)
    }))
    return out
  }
  // Warm-up at the same rate, not measured: a cold agent spends its first seconds of load compiling
  // the hot paths (JIT), which a long-running node pays once. Ten agents on two cores keep compiling
  // and deoptimising for about 15 s of load (V8's code log). The warm-up runs in two parts with the
  // harness's own traffic in between (admin-socket convergence checks, a metrics scrape), as a node
  // in service sees them: their first calls deoptimise the load's stream and HTTP code, and without
  // the second part that recompilation fell in the first measured seconds, where most skipped writes
  // were. Same code, same machine: one 5 s part gave 983–997 writes/s, two parts of 5 + 3 s 995–999
  // with a write p99 of 150–220 ms, 15 + 3 s 999.7–1000 with 90–100 ms.
  if (WARMUP > 0) {
    await drive(WARMUP, 5_000_000)
    await cluster.waitConverged({ timeoutMs: 120_000 })
    await Promise.all(cluster.nodes.map(async n => await cluster.metrics(n.index)))
    await drive(Math.min(3, WARMUP), 6_000_000)
    await cluster.waitConverged({ timeoutMs: 120_000 })
  }
  const samplesBefore = await Promise.all(cluster.nodes.map(async n => await cluster.metrics(n.index)))
  const cpuBefore = await Promise.all(cluster.nodes.map(async n => await cpuMs(n.pid)))
  const selfBefore = process.cpuUsage()
  const { sent, failed, skipped, latencies } = await drive(SECONDS, 0)
  const stopped = performance.now()
  await cluster.waitConverged({ timeoutMs: 120_000 })
  const convergeMs = performance.now() - stopped
  const cpuAfter = await Promise.all(cluster.nodes.map(async n => await cpuMs(n.pid)))
  const self = process.cpuUsage(selfBefore)
  const loadCpuPerWrite = (self.user + self.system) / 1000 / Math.max(1, sent)
  // all agents' CPU time per acknowledged write (load and catch-up): steadier than writes/s on a
  // shared machine, and what sets the write rate a given number of cores can carry
  const cpuPerWrite = cpuAfter.reduce((t, c, i) => t + c - cpuBefore[i]!, 0) / Math.max(1, sent)
  const rss = await Promise.all(cluster.nodes.map(async n => await peakRssMiB(n.pid)))
  const samples = await Promise.all(cluster.nodes.map(async n => await cluster.metrics(n.index)))
  await new Promise(resolve => setTimeout(resolve, 2000))
  // what ten warmed-up agents cost doing nothing (SWIM, sync rounds, QUIC keep-alives): 5 s idle,
  // 2 s after the load's last effects
  const idleFrom = await Promise.all(cluster.nodes.map(async n => await cpuMs(n.pid)))
  const idleT0 = performance.now()
  await new Promise(resolve => setTimeout(resolve, 5000))
  const idleTo = await Promise.all(cluster.nodes.map(async n => await cpuMs(n.pid)))
  const idleCores = idleTo.reduce((t, c, i) => t + c - idleFrom[i]!, 0) / (performance.now() - idleT0)
  // how changesets arrived (new = taught the node something): sync should only repair what
  // broadcast missed, and every duplicate costs a decode and a bookkeeping check
  const delta = (name: string, labels: Record<string, string> = {}): number =>
    samples.reduce((t, m, i) => t + sumSamples(m, name, labels) - sumSamples(samplesBefore[i]!, name, labels), 0)
  const applied = (source: string, result: string): number => delta('patina_changesets_applied_total', { source, result })
  if (process.env.BENCH_VERBOSE !== undefined) {
    const keys = new Set(samples.flatMap(m => [...m.keys()]).filter(k => /^patina_(gossip|sync|changesets|process_nodejs_gc_duration_seconds_(sum|count))/.test(k)))
    for (const k of [...keys].sort()) console.error(k, samples.reduce((t, m, i) => t + (m.get(k) ?? 0) - (samplesBefore[i]!.get(k) ?? 0), 0))
    for (const n of cluster.nodes) console.error(n.name, JSON.stringify((await cluster.admin(n.index, 'Health'))[0]))
  }
  report('cluster-convergence', 'writes_per_s', sent / SECONDS, 'writes/s', RATE, { nodes: NODES, failed, skipped, write_p99_ms: Number(quantile(latencies, 0.99).toFixed(1)) })
  report('cluster-convergence', 'agent_cpu_ms_per_write', cpuPerWrite, 'ms', null, { nodes: NODES, load_generator_cpu_ms_per_write: Number(loadCpuPerWrite.toFixed(3)), cores: availableParallelism() })
  report('cluster-convergence', 'idle_cores', idleCores, 'cores', null, { nodes: NODES })
  report('cluster-convergence', 'converge_after_load_ms', convergeMs, 'ms', SYNC_MAX_MS, { target: 2000 })
  // baseline: what every node had to learn from the others
  report('cluster-convergence', 'changesets_new_by_sync', applied('sync', 'new'), 'changesets', sent * (NODES - 1), {
    gossip_new: applied('gossip', 'new'), gossip_known: applied('gossip', 'known'), sync_known: applied('sync', 'known'),
    sync_rounds: delta('patina_sync_rounds_total'),
    sync_sessions_reused: delta('patina_sync_sessions_reused_total'),
    gossip_dropped: delta('patina_gossip_dropped_total')
  })
  // how well broadcast sends coalesce: every frame costs a QUIC stream write and read
  const framesReceived = delta('patina_gossip_frames_total', { direction: 'received' })
  report('cluster-convergence', 'gossip_payloads_per_frame', delta('patina_gossip_received_total') / Math.max(1, framesReceived), 'payloads', null, { frames_received: framesReceived })
  // baseline: the same agents' peak RSS right after start, before any load
  report('cluster-convergence', 'peak_rss_per_agent_max', Math.max(...rss), 'MiB', Math.max(...idleRss), { p50: Number(quantile(rss, 0.5).toFixed(1)), target: 200 })
} finally {
  await cluster.destroy()
}

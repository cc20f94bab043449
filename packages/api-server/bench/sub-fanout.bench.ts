/**
 * sub-fanout: 1000 subscriptions on one node, each with its own HTTP client; one commit changes
 * every subscription's result. Measures commit → the last client's `change` event (p50, p99 over
 * the rounds), against commit → the first client's event. Run twice: 1000 distinct subscriptions
 * (1000 re-evaluations per commit), and 1000 clients of one shared subscription. The clients run in
 * a worker thread (`fanout-worker.ts`), as other processes would; both threads timestamp with
 * `performance.timeOrigin + performance.now()`. 200 measured rounds by default (`BENCH_ROUNDS`, at
 * least 40 must complete within 60 s) after 5 unmeasured warm-up rounds, so p99 is the 2nd-worst
 * round rather than the worst. `BENCH_VERBOSE` prints every round, the commit times and the server
 * thread's CPU time per round, `BENCH_TRACE` each round as it completes;
 * `BENCH_VARIANT=distinct|shared` runs one variant (for profiling).
 */
import { Worker } from 'node:worker_threads'
import { createApiServer } from '../src/index.ts'
import { createSqliteApiStore } from '../test/support/sqlite-store.ts'
import { report } from './http-client.ts'

const SUBS = Number(process.env.BENCH_SUBS ?? 1000)
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 200)
/** Rounds run first and not measured (JIT warm-up of the evaluation and client paths). */
const WARMUP = 5

type Msg = { ready: true } | { round: number, first: number, last: number } | { error: string }

async function run (shared: boolean): Promise<{ first: number[], last: number[] }> {
  const store = createSqliteApiStore({ schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY, v INTEGER NOT NULL);' })
  await store.transaction([{ sql: 'INSERT INTO t VALUES (1, 0)' }])
  const server = createApiServer({ store, addr: '127.0.0.1:0' })
  const { port } = await server.start()
  const worker = new Worker(new URL('./fanout-worker.ts', import.meta.url), {
    workerData: { port, subs: SUBS, shared },
    execArgv: ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning']
  })
  // Messages arrive in order; each `next` call takes the next one (or fails at the deadline).
  const inbox: Msg[] = []
  let wake: (() => void) | null = null
  let failure: Error | null = null
  worker.on('message', (m: Msg) => { inbox.push(m); wake?.() })
  worker.on('error', err => { failure = err; wake?.() })
  worker.on('exit', code => { failure ??= new Error(`fanout worker exited with ${code}`); wake?.() })
  const deadline = performance.now() + 120_000
  const next = async (): Promise<Msg> => {
    for (;;) {
      const m = inbox.shift()
      if (m != null) {
        if ('error' in m) throw new Error(`fanout worker: ${m.error}`)
        return m
      }
      if (failure != null) throw failure
      const left = deadline - performance.now()
      if (left <= 0) throw new Error('sub-fanout: timed out waiting for the clients')
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, left)
        wake = () => { clearTimeout(t); wake = null; resolve() }
      })
    }
  }
  try {
    if (!('ready' in await next())) throw new Error('sub-fanout: worker did not report ready')
    // Setup garbage (1000 subscriptions, requests) is collected before measuring, not in round 1.
    const gc = (globalThis as { gc?: () => void }).gc
    gc?.()
    const last: number[] = []
    const first: number[] = []
    const cpu: number[] = []
    const commitMs: number[] = []
    const stopAt = performance.now() + 60_000
    for (let round = 1; round <= WARMUP + ROUNDS && performance.now() < stopAt; round++) {
      const c0 = process.threadCpuUsage()
      const t0 = performance.timeOrigin + performance.now()
      await store.transaction([{ sql: 'UPDATE t SET v = ? WHERE id = 1', params: [round] }])
      const commitDone = performance.timeOrigin + performance.now()
      const m = await next()
      if (!('round' in m) || m.round !== round) throw new Error(`sub-fanout: expected round ${round}, got ${JSON.stringify(m)}`)
      if (round <= WARMUP) continue
      commitMs.push(commitDone - t0)
      const c1 = process.threadCpuUsage(c0)
      cpu.push((c1.user + c1.system) / 1000)
      last.push(m.last - t0)
      if (process.env.BENCH_TRACE != null) console.error(`round ${round} last ${(m.last - t0).toFixed(1)} first ${(m.first - t0).toFixed(1)}`)
      first.push(m.first - t0)
    }
    if (process.env.BENCH_VERBOSE != null) console.error('commit ms p50', pct(commitMs, 0.5).toFixed(2), 'max', Math.max(...commitMs).toFixed(1))
    if (process.env.BENCH_VERBOSE != null) console.error('rounds', last.length, 'max', Math.max(...last).toFixed(1), 'ms; server thread cpu ms per round: p50', pct(cpu, 0.5).toFixed(1), 'mean', (cpu.reduce((a, b) => a + b, 0) / cpu.length).toFixed(1))
    return { first, last }
  } finally {
    worker.removeAllListeners('exit')
    await worker.terminate()
    await server.stop()
    store.close()
  }
}

const pct = (xs: number[], p: number): number => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN }
const variants = process.env.BENCH_VARIANT === 'distinct' ? [false] : process.env.BENCH_VARIANT === 'shared' ? [true] : [false, true]
for (const shared of variants) {
  const { first, last } = await run(shared)
  if (last.length < 40) throw new Error(`sub-fanout: only ${last.length} rounds completed in time`)
  const what = shared ? 'clients_of_1_shared_sub' : 'distinct_subs'
  if (process.env.BENCH_VERBOSE != null) console.error(what, 'last', last.map(x => x.toFixed(1)).join(' '), '\nfirst', first.map(x => x.toFixed(1)).join(' '))
  report('sub-fanout', `commit_to_last_client_p99_${SUBS}_${what}`, pct(last, 0.99), 'ms', pct(first, 0.99), pct(last, 0.99) / pct(first, 0.99))
  report('sub-fanout', `commit_to_last_client_p50_${SUBS}_${what}`, pct(last, 0.5), 'ms', pct(first, 0.5), pct(last, 0.5) / pct(first, 0.5))
}

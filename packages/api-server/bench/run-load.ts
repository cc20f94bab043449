/** Runs `load-worker.ts` in a worker thread and waits for its figures. */
import { Worker } from 'node:worker_threads'

/** Figures of one load run. */
export interface LoadResult { done: number, bad: number, seconds: number }

/** Runs the load generator with `job` (see `load-worker.ts`). */
export function runLoad (job: { port: number, kind: 'write' | 'query', clients: number, seconds: number, max: number, rows?: number, offset?: number }): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./load-worker.ts', import.meta.url), {
      workerData: { rows: 1, offset: 0, ...job },
      execArgv: ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning']
    })
    w.once('message', (m: LoadResult) => { resolve(m); void w.terminate() })
    w.once('error', reject)
    w.once('exit', code => { if (code !== 0 && code !== 1) reject(new Error(`load worker exited with ${code}`)) })
  })
}

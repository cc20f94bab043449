/** Shared helpers of the crdt-store benchmarks. */

/** Prints one benchmark result line. */
export function report (bench: string, metric: string, value: number, unit: string, baseline?: number): void {
  const line: Record<string, unknown> = { bench, metric, value: round(value), unit }
  if (baseline != null) { line.baseline = round(baseline); line.ratio = round(value / baseline) }
  console.log(JSON.stringify(line))
}

function round (n: number): number { return Math.round(n * 1000) / 1000 }

/** Runs `fn` `runs` times and returns the best time in ms. */
export function best (runs: number, fn: () => void): number {
  let b = Infinity
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    b = Math.min(b, performance.now() - t0)
  }
  return b
}

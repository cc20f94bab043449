// Shared helpers of the benchmark scripts.

/** Print one benchmark result as a JSON line. */
export function report (bench: string, metric: string, value: number, unit: string, baseline?: number): void {
  const line: Record<string, unknown> = { bench, metric, value: round(value), unit }
  if (baseline != null) {
    line.baseline = round(baseline)
    line.ratio = baseline === 0 ? null : round(value / baseline)
  }
  console.log(JSON.stringify(line))
}

function round (n: number): number {
  return Math.round(n * 1000) / 1000
}

/** The q-quantile (0..1) of `values`. */
export function quantile (values: number[], q: number): number {
  if (values.length === 0) return NaN
  const sorted = values.slice().sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN
}

/** Resolve after `ms` (pacing a load loop, never waiting for a condition). */
export async function pause (ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms))
}

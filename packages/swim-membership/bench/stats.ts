/** Percentile (nearest-rank) of a list of numbers. */
export function percentile (values: readonly number[], p: number): number {
  if (values.length === 0) return NaN
  const sorted = [...values].sort((a, b) => a - b)
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))
  return sorted[rank]!
}

/** Prints one benchmark JSON line. */
export function emit (line: { bench: string, metric: string, value: number | null, unit: string, baseline: number | null, ratio: number | null, [k: string]: unknown }): void {
  console.log(JSON.stringify(line))
}

/** value / baseline rounded, or null. */
export function ratio (value: number | null, baseline: number | null): number | null {
  if (value === null || baseline === null || baseline === 0 || !Number.isFinite(value)) return null
  return Math.round((value / baseline) * 1000) / 1000
}

/** Milliseconds → seconds with 3 decimals. */
export function secs (ms: number): number {
  return Math.round(ms) / 1000
}

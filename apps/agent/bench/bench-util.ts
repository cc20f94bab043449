/** Shared helpers of the agent benchmarks. */

/** Prints one benchmark JSON line. */
export function report (bench: string, metric: string, value: number, unit: string, baseline: number | null = null, extra: Record<string, unknown> = {}): void {
  const ratio = baseline !== null && baseline !== 0 ? Number((value / baseline).toFixed(3)) : null
  console.log(JSON.stringify({ bench, metric, value: Number(value.toFixed(3)), unit, baseline: baseline === null ? null : Number(baseline.toFixed(3)), ratio, ...extra }))
}

/** The q-quantile (0..1) of numbers. */
export function quantile (values: readonly number[], q: number): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN
}

/** Peak resident set (VmHWM) of a process in MiB, from /proc; NaN when unavailable. */
export async function peakRssMiB (pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN
  try {
    const { readFileSync } = await import('node:fs')
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return m === null ? NaN : Number(m[1]) / 1024
  } catch {
    return NaN
  }
}

/** True when a row with key `k` is visible through node's `/v1/queries`. */
export async function visible (apiAddr: string, table: string, k: number): Promise<boolean> {
  const res = await fetch(`http://${apiAddr}/v1/queries`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify([`SELECT 1 FROM ${table} WHERE k = ?`, [k]]) })
  const text = await res.text()
  return text.includes('"row"')
}

/** CPU time (user + system) a process has used so far, in ms, from /proc; NaN when unavailable. */
export async function cpuMs (pid: number | undefined): Promise<number> {
  if (pid === undefined) return NaN
  try {
    const { readFileSync } = await import('node:fs')
    // fields after the command name (which may hold spaces): utime and stime are the 12th and 13th
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(f[11]) + Number(f[12])) * 10 // clock ticks of 10 ms (USER_HZ 100 on Linux)
  } catch {
    return NaN
  }
}

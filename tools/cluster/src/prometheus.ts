/**
 * Parses Prometheus text exposition into `name{labels}` → value (labels as exposed, so
 * `patina_changesets_applied_total{source="sync",result="new"}` is one key). Comments and
 * malformed lines are skipped.
 */
export function parsePrometheus (text: string): Map<string, number> {
  const out = new Map<string, number>()
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const sep = line.lastIndexOf(' ')
    if (sep <= 0) continue
    const value = Number(line.slice(sep + 1))
    if (!Number.isNaN(value)) out.set(line.slice(0, sep), value)
  }
  return out
}

/** Sum of every sample of `name` whose labels include all of `labels` (`{ source: 'sync' }`). */
export function sumSamples (samples: ReadonlyMap<string, number>, name: string, labels: Record<string, string> = {}): number {
  let total = 0
  for (const [key, value] of samples) {
    const brace = key.indexOf('{')
    if ((brace < 0 ? key : key.slice(0, brace)) !== name) continue
    const has = ([k, v]: [string, string]): boolean => key.includes(`{${k}="${v}"`) || key.includes(`,${k}="${v}"`)
    if (Object.entries(labels).every(has)) total += value
  }
  return total
}

/** Formats a cell for a human table. */
function cell (v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  if (typeof v === 'string') return v
  if (Array.isArray(v) && v.every(x => typeof x === 'number')) return 'x\'' + Buffer.from(v as number[]).toString('hex') + '\''
  return typeof v === 'object' ? JSON.stringify(v) : String(v)
}

/**
 * One row as Corrosion's `query` prints it: values joined by `|`, NULL as an empty field, blobs
 * (arrays of byte values in the API's JSON) as `x'hex'`, numbers and text as they are.
 */
export function formatPlainRow (row: readonly unknown[]): string {
  return row.map(v => {
    if (v === null || v === undefined) return ''
    if (typeof v === 'string') return v
    if (Array.isArray(v) && v.every(x => typeof x === 'number')) return 'x\'' + Buffer.from(v as number[]).toString('hex') + '\''
    return typeof v === 'object' ? JSON.stringify(v) : String(v)
  }).join('|')
}

/** Renders rows as an aligned text table with a header line. */
export function formatTable (columns: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const text = rows.map(r => columns.map((_, i) => cell(r[i])))
  const widths = columns.map((c, i) => Math.max(c.length, ...text.map(r => r[i]?.length ?? 0)))
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd()
  return [line(columns), line(widths.map(w => '-'.repeat(w))), ...text.map(line)].join('\n') + '\n'
}

/** Renders objects as a table over the given keys. */
export function formatObjects (keys: readonly string[], objects: readonly Record<string, unknown>[]): string {
  return formatTable(keys, objects.map(o => keys.map(k => o[k])))
}

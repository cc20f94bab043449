import { SEQ_SPAN } from './crr-sql.ts'
import { packValues } from './pack-pk.ts'
import type { TableRuntime } from './runtime.ts'
import type { Change, Changeset, SqlValue } from './types.ts'

/** Rows a version touched, per table: `[table, keys]` where a key is its exact key values. */
export type RowList = [string, SqlValue[][]][]

/**
 * The changes one version still owns: cells (and sentinels) whose origin is `(ord, version)`,
 * looked up row by row through the version's row list. Sorted by seq.
 */
export function versionChanges (tables: ReadonlyMap<string, TableRuntime>, rows: RowList, ord: number, version: number, siteId: Uint8Array): Change[] {
  const out: Change[] = []
  const lo = version * SEQ_SPAN
  const hi = lo + SEQ_SPAN
  for (const [table, keys] of rows) {
    const rt = tables.get(table)
    if (rt == null) continue
    const n = rt.meta.cols.length
    for (const pk of keys) {
      const row = rt.getClock.get(...pk) as (number | null)[] | undefined
      if (row == null) continue
      const cl = row[0] as number
      let packed: Uint8Array | undefined
      const st = row[2]
      if (st != null && row[1] === ord && st >= lo && st < hi) {
        packed ??= packValues(pk, true)
        out.push({ table, pk: packed, cid: '-1', val: null, colVersion: cl, dbVersion: version, siteId, cl, seq: st - lo })
      }
      let base: SqlValue[] | undefined
      for (let i = 0; i < n; i++) {
        const t = row[3 + i * 3 + 2]
        if (t == null || row[3 + i * 3 + 1] !== ord || t < lo || t >= hi) continue
        packed ??= packValues(pk, true)
        base ??= (rt.getBase.get(...pk) as SqlValue[] | undefined) ?? new Array<SqlValue>(n).fill(null)
        out.push({ table, pk: packed, cid: rt.meta.cols[i]!.name, val: base[i] ?? null, colVersion: row[3 + i * 3] as number, dbVersion: version, siteId, cl, seq: t - lo })
      }
    }
  }
  out.sort((a, b) => a.seq - b.seq)
  return out
}

function valueSize (v: SqlValue): number {
  if (v == null) return 1
  if (typeof v === 'string') return Buffer.byteLength(v, 'utf8') + 5
  if (v instanceof Uint8Array) return v.length + 5
  return 9
}

/** Rough encoded size of a change, for chunking. */
export function changeSize (c: Change): number {
  return 16 + c.pk.length + Buffer.byteLength(c.cid, 'utf8') + Buffer.byteLength(c.table, 'utf8') + valueSize(c.val)
}

/**
 * Cuts a version's changes (sorted by seq) into changesets of about `chunkBytes`. Seq ranges are
 * contiguous and together cover `0..lastSeq`; no changes gives one cleared changeset.
 */
export function chunkVersion (actor: Uint8Array, version: number, lastSeq: number, ts: bigint, changes: readonly Change[], chunkBytes: number): Changeset[] {
  if (changes.length === 0) return [{ actor, version, seqs: [0, lastSeq], lastSeq, ts, changes: [] }]
  const out: Changeset[] = []
  let start = 0
  let cur: Change[] = []
  let size = 0
  for (const c of changes) {
    const s = changeSize(c)
    if (cur.length > 0 && size + s > chunkBytes && c.seq > cur[cur.length - 1]!.seq) {
      const end = cur[cur.length - 1]!.seq
      out.push({ actor, version, seqs: [start, end], lastSeq, ts, changes: cur })
      start = end + 1
      cur = []
      size = 0
    }
    cur.push(c)
    size += s
  }
  out.push({ actor, version, seqs: [start, lastSeq], lastSeq, ts, changes: cur })
  return out
}

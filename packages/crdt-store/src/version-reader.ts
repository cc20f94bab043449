import { packValues } from './pack-pk.ts'
import { exactKey } from './runtime.ts'
import type { TableRuntime } from './runtime.ts'
import type { Change, Changeset, SqlValue } from './types.ts'

/** Rows a version touched, per table: `[table, keys]` where a key is its exact key values. */
export type RowList = [string, SqlValue[][]][]

/** Shortest run of consecutive integer keys worth one range scan instead of point lookups. */
const MIN_RUN = 16

/**
 * The changes one version still owns: cells (and sentinels) whose origin is `(ord, version)`,
 * found through the version's row list: point lookups by key, or one range scan for each run of
 * consecutive integer keys (bulk writes). Sorted by seq.
 */
export function versionChanges (tables: ReadonlyMap<string, TableRuntime>, rows: RowList, ord: number, version: number, siteId: Uint8Array): Change[] {
  const out: Change[] = []
  for (const [table, keys] of rows) {
    const rt = tables.get(table)
    if (rt == null) continue
    const n = rt.meta.cols.length
    /** Emits the cells of one row; `base` gives the row's values when first needed. */
    const emit = (pk: SqlValue[], row: (number | null)[], base: () => SqlValue[]): void => {
      const cl = row[0] as number
      let packed: Uint8Array | undefined
      if (row[1] === ord && row[2] === version) {
        packed ??= packValues(pk, true)
        out.push({ table, pk: packed, cid: '-1', val: null, colVersion: cl, dbVersion: version, siteId, cl, seq: row[3] as number })
      }
      let vals: SqlValue[] | undefined
      for (let i = 0; i < n; i++) {
        const o = 4 + i * 4
        if (row[o + 1] !== ord || row[o + 2] !== version || row[o] == null) continue
        packed ??= packValues(pk, true)
        vals ??= base()
        out.push({ table, pk: packed, cid: rt.meta.cols[i]!.name, val: vals[i] ?? null, colVersion: row[o] as number, dbVersion: version, siteId, cl, seq: row[o + 3] as number })
      }
    }
    const pointLookup = (key: SqlValue[]): void => {
      const pk = exactKey(rt, key)
      const row = rt.getClock.get(...pk) as (number | null)[] | undefined
      // values need exact integers, clocks do not: two lookups beat one all-bigint row
      if (row != null) emit(pk, row, () => (rt.getBase.get(...pk) as SqlValue[] | undefined) ?? new Array<SqlValue>(n).fill(null))
    }
    if (rt.clockRange == null || keys.length < MIN_RUN) { for (const k of keys) pointLookup(k); continue }
    // integer keys: sort, cut into runs of consecutive values, scan each long run once
    const ints: number[] = []
    for (const k of keys) {
      const v = k[0]
      if ((typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'bigint' && v >= -9007199254740991n && v <= 9007199254740991n)) ints.push(Number(v))
      else pointLookup(k)
    }
    ints.sort((a, b) => a - b)
    let i = 0
    while (i < ints.length) {
      let j = i
      while (j + 1 < ints.length && ints[j + 1]! - ints[j]! <= 1) j++
      if (j - i + 1 < MIN_RUN) {
        for (let k = i; k <= j; k++) if (k === i || ints[k] !== ints[k - 1]) pointLookup([ints[k]!])
      } else {
        const clocks = rt.clockRange.all(ints[i], ints[j]) as (number | null)[][]
        const bases = rt.baseRange!.all(ints[i], ints[j]) as SqlValue[][]
        let b = 0
        for (const c of clocks) {
          const id = c[0] as number
          // both scans are ordered by key: advance the base cursor to this key
          while (b < bases.length && Number(bases[b]![0]) < id) b++
          const baseRow = b < bases.length && Number(bases[b]![0]) === id ? bases[b]! : undefined
          emit([BigInt(id)], c.slice(1), () => baseRow != null ? baseRow.slice(1) : new Array<SqlValue>(n).fill(null))
        }
      }
      i = j + 1
    }
  }
  out.sort((a, b) => a.seq - b.seq)
  return out
}

/**
 * The part of a row list whose rows still hold at least one cell (or sentinel) of version
 * `(ord, version)`. Ownership never returns to an old version, so the rest can be dropped.
 */
export function ownedRows (tables: ReadonlyMap<string, TableRuntime>, rows: RowList, ord: number, version: number): RowList {
  const out: RowList = []
  for (const [table, keys] of rows) {
    const rt = tables.get(table)
    if (rt == null) continue
    const n = rt.meta.cols.length
    const kept = keys.filter(key => {
      const row = rt.getClock.get(...exactKey(rt, key)) as (number | null)[] | undefined
      if (row == null) return false
      if (row[1] === ord && row[2] === version) return true
      for (let i = 0; i < n; i++) {
        const o = 4 + i * 4
        if (row[o] != null && row[o + 1] === ord && row[o + 2] === version) return true
      }
      return false
    })
    if (kept.length > 0) out.push([table, kept])
  }
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

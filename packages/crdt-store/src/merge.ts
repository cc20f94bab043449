import { compareBytes, compareValues } from './compare-values.ts'
import { MalformedChangesetError, MalformedPkError, UnknownColumnError, UnknownTableError } from './errors.ts'
import { unpackValues } from './pack-pk.ts'
import { upsertFor, storedForm, toBytes } from './runtime.ts'
import type { TableRuntime } from './runtime.ts'
import type { Change, RowChangeKind, SqlValue } from './types.ts'

/** A row a merge or local write touched. `kind` is undefined when only clock metadata changed. */
export interface RowTouch {
  table: string
  /** Key values in exact form (INTEGER as bigint). */
  pk: SqlValue[]
  kind: RowChangeKind | undefined
}

/** Changes of one row, validated, in seq order. */
export interface RowGroup {
  rt: TableRuntime
  pk: SqlValue[]
  changes: Change[]
}

/**
 * Validates every change of a version and groups them by row. Throws `UnknownTableError`,
 * `UnknownColumnError` or `MalformedChangesetError` before anything is written.
 */
export function groupChanges (tables: ReadonlyMap<string, TableRuntime>, changes: readonly Change[]): RowGroup[] {
  const groups = new Map<string, RowGroup>()
  // a row's cells are usually adjacent: reuse the previous change's group without building a key
  let prev: Change | undefined
  let prevGroup: RowGroup | undefined
  for (const c of changes) {
    if (prev != null && prevGroup != null && c.table === prev.table && sameBytes(c.pk, prev.pk) && (c.cid === '-1' || prevGroup.rt.colIndex.has(c.cid))) {
      if (!Number.isSafeInteger(c.cl) || c.cl < 0 || !Number.isSafeInteger(c.colVersion) || c.colVersion < 0) throw new MalformedChangesetError(`change ${c.table}.${c.cid} has an invalid cl or col_version`)
      prevGroup.changes.push(c)
      prev = c
      continue
    }
    const rt = tables.get(c.table)
    if (rt == null) throw new UnknownTableError(`change for unknown table "${c.table}"`)
    if (c.cid !== '-1' && !rt.colIndex.has(c.cid)) throw new UnknownColumnError(`change for unknown column "${c.cid}" of table "${c.table}"`)
    if (!Number.isSafeInteger(c.cl) || c.cl < 0 || !Number.isSafeInteger(c.colVersion) || c.colVersion < 0) throw new MalformedChangesetError(`change ${c.table}.${c.cid} has an invalid cl or col_version`)
    const key = c.table + '\0' + Buffer.from(c.pk.buffer, c.pk.byteOffset, c.pk.byteLength).toString('latin1')
    let g = groups.get(key)
    if (g == null) {
      let pk: SqlValue[]
      try { pk = unpackValues(c.pk, true) } catch (err) { throw new MalformedChangesetError(`change for table "${c.table}" has a bad pk: ${(err as Error).message}`, { cause: err }) }
      if (pk.length !== rt.meta.pks.length) throw new MalformedChangesetError(`change for table "${c.table}" has ${pk.length} key values, the table has ${rt.meta.pks.length}`)
      pk = pk.map((v, i) => {
        if (v === null) throw new MalformedPkError(`change for table "${c.table}" has a NULL key value`)
        const stored = toBytes(storedForm(rt.db, rt.meta.pks[i]!, v))
        // an INTEGER PRIMARY KEY is the rowid: it holds integers only
        if (rt.meta.intPk && typeof stored !== 'bigint') throw new MalformedChangesetError(`change for table "${c.table}" has key ${String(v)}, which its INTEGER PRIMARY KEY cannot hold`)
        return stored
      })
      g = { rt, pk, changes: [] }
      groups.set(key, g)
    }
    g.changes.push(c)
    prev = c
    prevGroup = g
  }
  // changes normally arrive in seq order: sorting (which allocates) only when they did not
  for (const g of groups.values()) if (!inSeqOrder(g.changes)) g.changes.sort((a, b) => a.seq - b.seq)
  return [...groups.values()]
}

function inSeqOrder (changes: readonly Change[]): boolean {
  for (let i = 1; i < changes.length; i++) if (changes[i - 1]!.seq > changes[i]!.seq) return false
  return true
}

// A new life starts its cells' col_versions at 0 (those that have a clock).
function resetCellVersions (cells: (number | null)[], n: number): void {
  for (let i = 0; i < n; i++) if (cells[i * 4] != null) cells[i * 4] = 0
}

function sameBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

/** Where merged cells come from. */
export interface MergeOrigin {
  ord: number
  siteId: Uint8Array
  version: number
}

/**
 * Merges validated row groups with cr-sqlite's rules: causal length, then col_version, then value
 * order, then site id (merge-equal-values). The caller runs this inside a transaction with the
 * local-write triggers disabled. Returns the number of winning changes and the touched rows.
 */
export function mergeGroups (groups: readonly RowGroup[], origin: MergeOrigin, siteIdOf: (ord: number) => Uint8Array): { changed: number; touched: RowTouch[]; overwrites: number } {
  let changed = 0
  // rows that already had a clock and changed: older versions may have lost cells to this one
  let overwrites = 0
  const touched: RowTouch[] = []
  const { ord, siteId, version } = origin
  for (const { rt, pk, changes } of groups) {
    const n = rt.meta.cols.length
    const row = rt.getClock.get(...pk) as (number | null)[] | undefined
    let exists = row != null
    let cl = row != null ? row[0] as number : 0
    let ss = row != null ? row[1] ?? null : null
    let sv = row != null ? row[2] ?? null : null
    let sq = row != null ? row[3] ?? null : null
    // per column: col_version, site ordinal, version, seq
    const cells: (number | null)[] = row != null ? row.slice(4) : new Array<number | null>(n * 4).fill(null)
    const baseInitially = exists && cl % 2 === 1
    let baseAlive = baseInitially
    let baseDeleted = false
    // values this version writes, by column index (undefined: not written); allocated on first write
    let written: (SqlValue | undefined)[] | undefined
    let writtenCount = 0
    let baseVals: SqlValue[] | undefined
    let dirty = false
    // A sentinel change sets an explicit sentinel. A column change that resurrects only implies
    // one (no origin): the real sentinel of that life arrives with its own version and replaces
    // it, so every replica ends with the same sentinel origin whatever the delivery order.
    // (Resurrection is written out at both places below rather than as a closure, which would
    // move this row's state into a heap-allocated context on every row.)
    for (const c of changes) {
      const inCl = c.cl
      const localCl = exists ? cl : 0
      if (inCl < localCl) continue
      if (inCl % 2 === 0) {
        if (inCl === localCl) {
          // equal tombstones: the greater site id owns it, so every node records the same origin
          if (sv != null && ss != null && ss !== ord && compareBytes(siteId, siteIdOf(ss)) > 0) { ss = ord; sv = version; sq = c.seq; dirty = true }
          continue
        }
        if (baseAlive) { baseAlive = false; baseDeleted = true }
        written = undefined; writtenCount = 0
        cl = inCl; ss = ord; sv = version; sq = c.seq; cells.fill(null); exists = true; dirty = true; changed++
        continue
      }
      if (c.cid === '-1') {
        if (inCl === localCl) {
          // equal live sentinels: an explicit sentinel beats an implied one, then the greater site
          if (sv == null || (ss !== ord && compareBytes(siteId, siteIdOf(ss ?? 0)) > 0)) { ss = ord; sv = version; sq = c.seq; dirty = true }
          continue
        }
        // resurrect with an explicit sentinel
        baseAlive = true
        resetCellVersions(cells, n)
        cl = inCl; exists = true; dirty = true; ss = ord; sv = version; sq = c.seq
        changed++
        continue
      }
      const ci = rt.colIndex.get(c.cid)!
      const col = rt.meta.cols[ci]!
      const val = toBytes(storedForm(rt.db, col, c.val))
      const needsResurrect = inCl > localCl
      if (needsResurrect && (exists || inCl > 1)) {
        // resurrect with an implied sentinel
        baseAlive = true
        resetCellVersions(cells, n)
        cl = inCl; exists = true; dirty = true; ss = null; sv = null; sq = null
      } else if (needsResurrect) { cl = inCl; exists = true; baseAlive = true }
      let wins = needsResurrect || cells[ci * 4] == null
      if (!wins) {
        const lv = cells[ci * 4] as number
        if (c.colVersion > lv) wins = true
        else if (c.colVersion === lv) {
          let local = written?.[ci]
          if (local === undefined) {
            baseVals ??= (rt.getBase.get(...pk) as SqlValue[] | undefined) ?? new Array<SqlValue>(n).fill(null)
            local = baseVals[ci] ?? null
          }
          const cmp = compareValues(val, local)
          if (cmp > 0) wins = true
          else if (cmp === 0) {
            const ls = cells[ci * 4 + 1]
            wins = ls != null && ls !== ord && compareBytes(siteId, siteIdOf(ls)) > 0
          }
        }
      }
      if (!wins) continue
      written ??= new Array<SqlValue | undefined>(n)
      if (written[ci] === undefined) writtenCount++
      written[ci] = val
      cells[ci * 4] = c.colVersion; cells[ci * 4 + 1] = ord; cells[ci * 4 + 2] = version; cells[ci * 4 + 3] = c.seq
      dirty = true; changed++
    }
    if (!dirty) continue
    if (row != null) overwrites++
    if (baseInitially && baseDeleted) rt.delBase.run(...pk)
    if (baseAlive && (baseDeleted || !baseInitially || writtenCount > 0)) {
      const cols: number[] = []
      const vals: SqlValue[] = []
      if (written != null) {
        for (let i = 0; i < n; i++) {
          const v = written[i]
          if (v !== undefined) { cols.push(i); vals.push(v) }
        }
      }
      upsertFor(rt, cols).run(...pk, ...vals)
    }
    rt.putClock.run(...pk, cl, ss, sv, sq, ...cells)
    let kind: RowChangeKind | undefined
    if (baseInitially && !baseAlive) kind = 'delete'
    else if (!baseInitially && baseAlive) kind = 'insert'
    else if (baseAlive && (baseDeleted || writtenCount > 0)) kind = 'update'
    touched.push({ table: rt.meta.name, pk, kind })
  }
  return { changed, touched, overwrites }
}

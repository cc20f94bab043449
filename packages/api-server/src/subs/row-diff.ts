/**
 * The pure core of subscription re-evaluation: given the rows a subscription holds (with their
 * stable row ids) and a fresh result, computes the `insert` / `update` / `delete` changes.
 *
 * Rows are matched by a key: the primary-key columns of the source tables when the result carries
 * all of them, else every column that maps to a table column, else the whole row. A key is used
 * only when it is unique in both the old and the new rows, so the diff is always exact; the key only
 * decides whether a changed row is reported as one `update` (same row id) or `delete` + `insert`.
 */
import type { SqlValue } from '../ports.ts'

/** A row of a subscription's result with its stable row id. */
export interface SubRow {
  rowid: number
  cells: SqlValue[]
}

/** One change of a subscription's result. */
export interface RowDiffChange {
  type: 'insert' | 'update' | 'delete'
  rowid: number
  cells: SqlValue[]
}

/**
 * Columns to match rows by. `identity` keys (primary keys) name an entity: rows with different
 * identity keys are never reported as an update of one another.
 */
export interface KeyCandidate {
  columns: readonly number[]
  identity: boolean
}

/** The outcome of {@link diffRows}. */
export interface RowDiffResult {
  changes: RowDiffChange[]
  /** The new rows, in the order of the new result. */
  rows: SubRow[]
  nextRowid: number
}

/** Stable text identity of a row's cells (type-tagged, so `1` and `'1'` differ). */
export function cellsKey (cells: readonly SqlValue[], idx?: readonly number[]): string {
  let out = ''
  const n = idx != null ? idx.length : cells.length
  for (let i = 0; i < n; i++) {
    const v = cells[idx != null ? idx[i] as number : i] ?? null
    if (v === null) out += 'n|'
    else if (typeof v === 'number') out += `i${v}|`
    else if (typeof v === 'bigint') out += `i${v}|`
    else if (typeof v === 'string') out += `s${v.length}:${v}|`
    else out += `b${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}|`
  }
  return out
}

/** Whether two rows have the same cells, by the identity {@link cellsKey} gives (without building it). */
export function sameCells (a: readonly SqlValue[], b: readonly SqlValue[]): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) {
    const x = a[i] ?? null
    const y = b[i] ?? null
    if (x === y) continue
    if (x === null || y === null) return false
    const tx = typeof x
    const ty = typeof y
    // Integers compare across number and bigint, as in cellsKey (`i<digits>`).
    if ((tx === 'number' || tx === 'bigint') && (ty === 'number' || ty === 'bigint')) {
      if (tx === ty || String(x) !== String(y)) return false
      continue
    }
    if (x instanceof Uint8Array && y instanceof Uint8Array) {
      if (!Buffer.from(x.buffer, x.byteOffset, x.byteLength).equals(y)) return false
      continue
    }
    return false
  }
  return true
}

function uniqueKeys<T> (items: readonly T[], key: (x: T) => string): Map<string, T> | null {
  const m = new Map<string, T>()
  for (const x of items) {
    const k = key(x)
    if (m.has(k)) return null
    m.set(k, x)
  }
  return m
}

/**
 * Diffs `oldRows` against `newCells`. `keyCandidates` are tried in order (see
 * module doc). New rows get ids from `nextRowid` upward.
 */
export function diffRows (oldRows: readonly SubRow[], newCells: readonly SqlValue[][], keyCandidates: readonly KeyCandidate[], nextRowid: number): RowDiffResult {
  for (const { columns: idx, identity } of keyCandidates) {
    if (idx.length === 0) continue
    const oldMap = uniqueKeys(oldRows, r => cellsKey(r.cells, idx))
    if (oldMap == null) continue
    const newMap = uniqueKeys(newCells, c => cellsKey(c, idx))
    if (newMap == null) continue
    const changes: RowDiffChange[] = []
    const rows: SubRow[] = []
    const deletes: RowDiffChange[] = []
    for (const cells of newCells) {
      const k = cellsKey(cells, idx)
      const old = oldMap.get(k)
      if (old == null) {
        const row = { rowid: nextRowid++, cells }
        rows.push(row)
        changes.push({ type: 'insert', rowid: row.rowid, cells })
      } else {
        oldMap.delete(k)
        rows.push({ rowid: old.rowid, cells })
        if (!sameCells(old.cells, cells)) changes.push({ type: 'update', rowid: old.rowid, cells })
      }
    }
    for (const old of oldMap.values()) deletes.push({ type: 'delete', rowid: old.rowid, cells: old.cells })
    const d = { changes: changes.concat(deletes), rows, nextRowid }
    return identity ? d : pairSingle(d)
  }
  // Whole-row identity, as a multiset.
  const pool = new Map<string, SubRow[]>()
  for (const r of oldRows) {
    const k = cellsKey(r.cells)
    const list = pool.get(k)
    if (list == null) pool.set(k, [r])
    else list.push(r)
  }
  const changes: RowDiffChange[] = []
  const rows: SubRow[] = []
  for (const cells of newCells) {
    const list = pool.get(cellsKey(cells))
    const old = list?.shift()
    if (old != null) { rows.push(old); continue }
    const row = { rowid: nextRowid++, cells }
    rows.push(row)
    changes.push({ type: 'insert', rowid: row.rowid, cells })
  }
  for (const list of pool.values()) {
    for (const old of list) changes.push({ type: 'delete', rowid: old.rowid, cells: old.cells })
  }
  return pairSingle({ changes, rows, nextRowid })
}

/**
 * When a re-evaluation replaced exactly one row by exactly one other row (a single aggregate, a
 * changed non-key column), report it as an `update` of the old row id instead of delete + insert.
 */
function pairSingle (d: RowDiffResult): RowDiffResult {
  const inserted = d.changes.filter(c => c.type === 'insert')
  const deleted = d.changes.filter(c => c.type === 'delete')
  if (inserted.length !== 1 || deleted.length !== 1) return d
  const ins = inserted[0] as RowDiffChange
  const del = deleted[0] as RowDiffChange
  const row = d.rows.find(r => r.rowid === ins.rowid)
  if (row == null || ins.rowid !== d.nextRowid - 1) return d
  row.rowid = del.rowid
  const changes = d.changes.filter(c => c !== del).map(c => c === ins ? { type: 'update' as const, rowid: del.rowid, cells: ins.cells } : c)
  return { changes, rows: d.rows, nextRowid: d.nextRowid - 1 }
}

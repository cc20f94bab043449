import { hex } from './hex.ts'
import type { RowChangeKind, SqlValue } from './types.ts'

/** Pending state of the local transaction in progress. */
export interface Pending {
  dbv: number
  seq: number
  lastBase: number
  rows: Map<string, PendingRows>
  /** Rows updated, deleted or replaced (not freshly inserted): older versions may have lost cells. */
  overwrites: number
}

/**
 * Rows a pending transaction touched in one table. Scalar keys are appended to a log (`logKeys`,
 * `logKinds`) as the triggers report them and folded into `single` (key → kind code) in batches:
 * a map update per trigger call, interleaved with SQLite's work, costs several times what the same
 * updates cost in one tight loop. Read rows through `pendingEntries`/`pendingKeys`, which fold first.
 */
export interface PendingRows {
  single: Map<unknown, number>
  logKeys: unknown[]
  logKinds: number[]
  multi: Map<string, { pk: SqlValue[]; kind: number }>
}

/** An empty `PendingRows`. */
export function pendingRows (): PendingRows {
  return { single: new Map(), logKeys: [], logKinds: [], multi: new Map() }
}

/** Folds the logged scalar keys into `single`, in order. */
export function foldLog (r: PendingRows): void {
  const { single, logKeys, logKinds } = r
  for (let i = 0; i < logKeys.length; i++) {
    const k = logKeys[i]
    const prev = single.get(k)
    single.set(k, prev == null ? logKinds[i]! : mergeKind(prev, logKinds[i]!))
  }
  logKeys.length = 0
  logKinds.length = 0
}

/** Map key of a composite (or blob) primary key. */
export function multiKey (pk: readonly unknown[]): string {
  return pk.map(v => v instanceof Uint8Array ? 'b' + hex(v) : typeof v + ':' + String(v)).join('\0')
}

/** Kind codes to names. */
export const KINDS: RowChangeKind[] = ['insert', 'update', 'delete']

/**
 * Combines two kinds seen for one row in one transaction (codes: 0 insert, 1 update, 2 delete,
 * 3 none: inserted then deleted, so subscribers never saw it).
 */
export function mergeKind (prev: number, next: number): number {
  if (prev === 0 && next === 1) return 0
  if (prev === 0 && next === 2) return 3
  if (prev === 2 && next === 0) return 1
  if (prev === 3) return next
  return next
}

/** Every row of one table with its kind code. */
export function pendingEntries (r: PendingRows): { pk: SqlValue[]; kind: number }[] {
  foldLog(r)
  const out: { pk: SqlValue[]; kind: number }[] = []
  for (const [k, kind] of r.single) out.push({ pk: [k as SqlValue], kind })
  for (const e of r.multi.values()) out.push(e)
  return out
}

/** The key of every row of one table, scalar keys first (a version's row list). */
export function pendingKeys (r: PendingRows): SqlValue[][] {
  foldLog(r)
  const out: SqlValue[][] = new Array(r.single.size)
  let i = 0
  for (const k of r.single.keys()) out[i++] = [k as SqlValue]
  for (const e of r.multi.values()) out.push(e.pk)
  return out
}

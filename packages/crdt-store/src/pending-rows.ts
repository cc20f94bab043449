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

/** Rows a pending transaction touched in one table: scalar keys map straight to a kind code. */
export interface PendingRows {
  single: Map<unknown, number>
  multi: Map<string, { pk: SqlValue[]; kind: number }>
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
  const out: { pk: SqlValue[]; kind: number }[] = []
  for (const [k, kind] of r.single) out.push({ pk: [k as SqlValue], kind })
  for (const e of r.multi.values()) out.push(e)
  return out
}


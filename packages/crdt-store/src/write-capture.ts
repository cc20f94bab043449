import type { Database as Db } from 'better-sqlite3'
import { SEQ_SPAN, stampOf } from './crr-sql.ts'
import { SqlError, TransactionTooLargeError } from './errors.ts'
import { foldLog, mergeKind, multiKey, pendingRows } from './pending-rows.ts'
import type { Pending, PendingRows } from './pending-rows.ts'
import type { SqlValue } from './types.ts'

/** Local-write state read by the trigger UDFs, and the functions that record into it. */
export interface WriteCapture {
  /** The local transaction in progress, if any. */
  pending: Pending | undefined
  /** Set while remote changes merge: triggers then stamp nothing. */
  syncBit: boolean
  /** Records a row touched by the pending transaction. */
  record(table: string, pk: readonly unknown[], kind: number): void
  /** Reserves `count` seqs in the pending transaction; returns the stamp of the first. */
  allocate(count: number): number | bigint
  /** Registers the trigger UDFs on the writer connection. */
  register(db: Db): void
}

/** Logged scalar keys folded into the row map at once (bounds the log of a long transaction). */
const LOG_FOLD = 65536

/** Creates the change-capture state of a store's local writes. */
export function writeCapture (): WriteCapture {
  // the last recorded row, for patina_existed: a scalar key is the last log entry of `lastRows`;
  // a composite key is `lastKey` of its multi map, with its kind before that record
  let lastRows: PendingRows | undefined
  let lastKey: string | undefined
  let lastPrev: number | undefined
  // the table of the previous record: most transactions write one table, so skip the lookup
  let lastTable: string | undefined
  let lastTableRows: PendingRows | undefined
  let lastPending: Pending | undefined
  const rowsOf = (p: Pending, table: string): PendingRows => {
    if (table === lastTable && p === lastPending) return lastTableRows!
    let m = p.rows.get(table)
    if (m == null) { m = pendingRows(); p.rows.set(table, m) }
    lastTable = table
    lastTableRows = m
    lastPending = p
    return m
  }
  /** Records a single scalar key (the common case: no array, no composite key). */
  const recordOne = (table: string, v: unknown, kind: number): void => {
    const p = cap.pending!
    if (kind !== 0) p.overwrites++
    const m = rowsOf(p, table)
    lastRows = m
    lastKey = undefined
    // folding before the append keeps the newest record in the log, where patina_existed finds it
    if (m.logKeys.length >= LOG_FOLD) foldLog(m)
    m.logKeys.push(v)
    m.logKinds.push(kind)
  }
  const cap: WriteCapture = {
    pending: undefined,
    syncBit: false,
    record (table, pk, kind) {
      const v = pk[0]
      if (pk.length === 1 && (typeof v !== 'object' || v === null)) { recordOne(table, v, kind); return }
      const p = cap.pending!
      if (kind !== 0) p.overwrites++
      const m = rowsOf(p, table)
      lastRows = m
      const k = multiKey(pk)
      const prev = m.multi.get(k)
      lastKey = k
      lastPrev = prev?.kind
      if (prev == null) m.multi.set(k, { pk: [...pk] as SqlValue[], kind })
      else prev.kind = mergeKind(prev.kind, kind)
    },
    allocate (count) {
      const pending = cap.pending
      if (pending == null) throw new SqlError('writes to replicated tables must go through store.transaction()')
      const base = pending.seq
      if (base + count >= SEQ_SPAN) throw new TransactionTooLargeError(`a transaction may write at most ${SEQ_SPAN - 1} cells`)
      pending.seq += count
      pending.lastBase = base
      return stampOf(pending.dbv, base)
    },
    register (db) {
      db.function('patina_sq', { varargs: true, deterministic: false, safeIntegers: true }, sqFn)
      // the number variants serve single-key tables only: a fixed arity avoids a rest array per row
      db.function('patina_sqn', { deterministic: false }, sqOne)
      db.function('patina_lastn', { deterministic: false }, lastOne)
      db.function('patina_existed', { deterministic: false }, (alive: unknown, v: unknown) => {
        if (alive === 1 && !cap.syncBit && cap.pending != null) replacedLive()
        return v as number | null
      })
      db.function('patina_stamp', { deterministic: false }, () => cap.pending == null ? null : stampOf(cap.pending.dbv, cap.pending.lastBase))
      db.function('patina_last', { varargs: true, deterministic: false, safeIntegers: true }, lastFn)
    }
  }
  /** The last recorded insert replaced a live row: it is an update. */
  const replacedLive = (): void => {
    if (lastRows == null) return
    if (cap.pending != null) cap.pending.overwrites++
    if (lastKey == null) {
      // the insert's log entry becomes an update; the fold merges it with earlier records
      lastRows.logKinds[lastRows.logKinds.length - 1] = 1
      return
    }
    const e = lastRows.multi.get(lastKey)
    if (e != null) e.kind = lastPrev == null ? 1 : mergeKind(lastPrev, 1)
  }
  const sqFn = (n: unknown, kind: unknown, table: unknown, ...pk: unknown[]): number | bigint | null => {
    if (cap.syncBit) return null
    const count = Number(n)
    if (count === 0) return null
    const s = cap.allocate(count)
    cap.record(table as string, pk, Number(kind))
    return s
  }
  const sqOne = (n: number, kind: number, table: string, k: number | null): number | bigint | null => {
    if (cap.syncBit || n === 0) return null
    const s = cap.allocate(n)
    recordOne(table, k, kind)
    return s
  }
  const lastOne = (kind: number, table: string, k: number | null): number | bigint | null => {
    const pending = cap.pending
    if (cap.syncBit || pending == null) return null
    recordOne(table, k, kind)
    return stampOf(pending.dbv, pending.lastBase)
  }
  const lastFn = (kind: unknown, table: unknown, ...pk: unknown[]): number | bigint | null => {
    const pending = cap.pending
    if (cap.syncBit || pending == null) return null
    cap.record(table as string, pk, Number(kind))
    return stampOf(pending.dbv, pending.lastBase)
  }
  return cap
}

/**
 * One live subscription: the materialised result with stable row ids, the retained change events
 * (for `from=` resume) and the attached clients. Re-evaluation runs the query through the store
 * port and diffs it against the held rows ({@link diffRows}).
 */
import { createHash, randomUUID } from 'node:crypto'
import { ChangesPurgedError, errorMessage } from '../errors.ts'
import { encodeRow, stringifyJson } from '../statement.ts'
import { diffRows } from './row-diff.ts'
import type { ApiStore, ColumnInfo, SchemaInfo, SqlValue, Statement } from '../ports.ts'
import type { SubRow } from './row-diff.ts'
import type { PersistedSubscription, StoredChange, SubStorage } from './sub-storage.ts'

/** A client attached to a subscription or an updates stream. */
export interface StreamListener {
  /** Queues one NDJSON line; returns `false` when the client is too far behind and must be dropped. */
  send(line: string): boolean
  /** Ends the stream, after an optional final line (an `error` event). */
  end(lastLine?: string): void
}

/** Options of {@link Subscription.attach}. */
export interface AttachOptions {
  /** Resume after this change id (replays retained changes). */
  from?: number
  /** Skip the initial `columns` / `row` / `eoq` events. */
  skipRows?: boolean
}

/** The result of running a query once. */
export interface QueryRun {
  columns: ColumnInfo[]
  rows: SqlValue[][]
  /** Seconds. */
  time: number
}

/** Runs a statement through the store and collects every row. */
export function runQuery (store: ApiStore, statement: Statement): QueryRun {
  const t0 = performance.now()
  const cur = store.query(statement)
  try {
    const rows: SqlValue[][] = []
    for (const r of cur.rows) rows.push(r)
    return { columns: cur.columns, rows, time: (performance.now() - t0) / 1000 }
  } finally { cur.close() }
}

/** The NDJSON line of an `error` event. */
export function errorLine (message: string): string {
  return stringifyJson({ error: message }) + '\n'
}

/** The `corro-query-hash` of a SQL text: 16 hex chars. */
export function queryHash (sql: string): string {
  return createHash('sha256').update(sql).digest('hex').slice(0, 16)
}

/** Column index lists to key rows by, most specific first (see `row-diff.ts`). */
export function keyCandidates (columns: readonly ColumnInfo[], schema: SchemaInfo): number[][] {
  const pkOf = new Map<string, Set<string>>()
  for (const t of schema.tables) pkOf.set(t.name, new Set(t.columns.filter(c => c.pk > 0).map(c => c.name)))
  const origin: number[] = []
  const pkIdx: number[] = []
  const seenPk = new Map<string, Set<string>>()
  columns.forEach((c, i) => {
    if (c.table == null || c.column == null) return
    origin.push(i)
    const pks = pkOf.get(c.table)
    if (pks?.has(c.column) === true) {
      pkIdx.push(i)
      let s = seenPk.get(c.table)
      if (s == null) seenPk.set(c.table, s = new Set())
      s.add(c.column)
    }
  })
  const tables = new Set(columns.flatMap(c => c.table != null ? [c.table] : []))
  const pkCovers = tables.size > 0 && [...tables].every(t => {
    const pks = pkOf.get(t)
    return pks != null && pks.size > 0 && pks.size === (seenPk.get(t)?.size ?? 0)
  })
  const out: number[][] = []
  if (pkCovers) out.push(pkIdx)
  if (origin.length > 0 && origin.length < columns.length) out.push(origin)
  return out
}

/** Init of {@link Subscription}. */
export interface SubscriptionInit {
  store: ApiStore
  statement: Statement
  tables: Set<string>
  retainChanges: number
  storage?: SubStorage | undefined
  now: () => number
  /** Restored state; absent for a new subscription (then the query runs at once). */
  restored?: PersistedSubscription
}

/** A live subscription (see module doc). */
export class Subscription {
  readonly id: string
  readonly hash: string
  readonly statement: Statement
  tables: Set<string>
  columns: string[] = []
  rows: SubRow[] = []
  nextRowid = 1
  lastChangeId = 0
  /** Seconds the last full evaluation took (reported in `eoq.time`). */
  evalTime = 0
  /** When the last client left (ms), or null while clients are attached. */
  idleSince: number | null
  private readonly retained: StoredChange[] = []
  private readonly listeners = new Set<StreamListener>()
  private readonly store: ApiStore
  private readonly storage: SubStorage | undefined
  private readonly retainChanges: number
  private keys: number[][] = []
  private keysKnown = false
  private readonly now: () => number

  constructor (init: SubscriptionInit) {
    this.store = init.store
    this.storage = init.storage
    this.statement = init.statement
    this.tables = init.tables
    this.retainChanges = init.retainChanges
    this.hash = queryHash(init.statement.sql)
    this.now = init.now
    this.idleSince = init.now()
    const r = init.restored
    if (r != null) {
      this.id = r.id
      this.columns = r.columns
      this.rows = r.rows
      this.nextRowid = r.nextRowid
      this.lastChangeId = r.lastChangeId
      this.retained.push(...r.changes)
      return
    }
    this.id = randomUUID()
    const run = runQuery(this.store, this.statement)
    this.evalTime = run.time
    this.columns = run.columns.map(c => c.name)
    this.keys = keyCandidates(run.columns, this.store.schema())
    this.keysKnown = true
    for (const cells of run.rows) this.rows.push({ rowid: this.nextRowid++, cells })
    this.storage?.create(this.persisted())
  }

  /** Number of attached clients. */
  get listenerCount (): number { return this.listeners.size }

  /** The oldest change id still retained (`lastChangeId + 1` when none is). */
  get minChangeId (): number { return this.retained[0]?.changeId ?? this.lastChangeId + 1 }

  private persisted (): PersistedSubscription {
    return { id: this.id, statement: this.statement, columns: this.columns, rows: this.rows, changes: [...this.retained], nextRowid: this.nextRowid, lastChangeId: this.lastChangeId }
  }

  /** Re-runs the query, emits and records the differences. Returns the new change events. */
  evaluate (): StoredChange[] {
    const t0 = performance.now()
    const run = runQuery(this.store, this.statement)
    const names = run.columns.map(c => c.name)
    if (!this.keysKnown || names.join('\u0000') !== this.columns.join('\u0000')) {
      this.columns = names
      this.keys = keyCandidates(run.columns, this.store.schema())
      this.keysKnown = true
    }
    const diff = diffRows(this.rows, run.rows, this.keys, this.nextRowid)
    this.rows = diff.rows
    this.nextRowid = diff.nextRowid
    this.evalTime = (performance.now() - t0) / 1000
    if (diff.changes.length === 0) return []
    const events: StoredChange[] = diff.changes.map(c => ({ ...c, changeId: ++this.lastChangeId }))
    this.retained.push(...events)
    if (this.retained.length > this.retainChanges) this.retained.splice(0, this.retained.length - this.retainChanges)
    this.storage?.commit(this.id, events, this.nextRowid, this.minChangeId)
    if (this.listeners.size > 0) {
      let text = ''
      for (const e of events) text += changeLine(e)
      for (const l of [...this.listeners]) this.deliver(l, text)
    }
    return events
  }

  private deliver (l: StreamListener, text: string): void {
    if (!l.send(text)) {
      this.detach(l)
      l.end(errorLine('client too slow: too many events buffered, disconnecting'))
    }
  }

  /** Attaches a client: replays what it asked for, then streams live changes. */
  attach (l: StreamListener, options: AttachOptions = {}): void {
    const from = options.from ?? 0
    let text = ''
    if (from > 0) {
      if (from < this.lastChangeId && from + 1 < this.minChangeId) {
        l.end(errorLine(new ChangesPurgedError(`subscription already deleted older changes, min change id: ${this.minChangeId}`).message))
        return
      }
      for (const c of this.retained) if (c.changeId > from) text += changeLine(c)
    } else if (options.skipRows !== true) {
      text += stringifyJson({ columns: this.columns }) + '\n'
      for (const r of this.rows) text += stringifyJson({ row: [r.rowid, encodeRow(r.cells)] }) + '\n'
      text += stringifyJson({ eoq: { time: this.evalTime, change_id: this.lastChangeId } }) + '\n'
    }
    this.listeners.add(l)
    this.idleSince = null
    if (text !== '') this.deliver(l, text)
  }

  /** Detaches a client (it disconnected or was dropped). */
  detach (l: StreamListener): void {
    if (this.listeners.delete(l) && this.listeners.size === 0) this.idleSince = this.now()
  }

  /** Ends every client with an error event (the subscription cannot continue). */
  fail (err: unknown): void {
    for (const l of [...this.listeners]) l.end(errorLine(errorMessage(err)))
    this.listeners.clear()
  }

  /** Ends every client stream without error (server shutdown). */
  closeAll (): void {
    for (const l of [...this.listeners]) l.end()
    this.listeners.clear()
  }
}

function changeLine (c: StoredChange): string {
  return stringifyJson({ change: [c.type, c.rowid, encodeRow(c.cells), c.changeId] }) + '\n'
}

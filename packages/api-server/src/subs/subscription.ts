/**
 * One live subscription: the materialised result with stable row ids, the retained change events
 * (for `from=` resume) and the attached clients. Re-evaluation goes through the store port: a
 * row-local query re-reads only the changed keys (`incremental.ts`); any other query re-runs in
 * full and is diffed against the held rows ({@link diffRows}).
 */
import { randomUUID } from 'node:crypto'
import { seahashHex } from './seahash.ts'
import { ChangesPurgedError, InvalidRequestError, errorMessage } from '../errors.ts'
import { encodeRow, stringifyJson } from '../statement.ts'
import { cellsKey, diffRows } from './row-diff.ts'
import { expandSql } from './expand-sql.ts'
import { hiddenCount, hiddenKeysResolved, withHiddenKeys } from './hidden-keys.ts'
import { applyKeyed, incrementalPlan, indexRows, keyIsJsonSafe, keyedSql, keyedStatement } from './incremental.ts'
import type { IncrementalPlan, KeyedRows, KeyedSql } from './incremental.ts'
import type { ApiStore, ColumnInfo, SchemaInfo, SqlValue, Statement } from '../ports.ts'
import type { KeyCandidate, RowDiffChange, SubRow } from './row-diff.ts'
import type { PersistedSubscription, StoredChange, SubStorage } from './sub-storage.ts'

/** Past this many changed keys in one batch, a full re-run is cheaper than keyed re-reads. */
const MAX_KEYED = 500

/** A client attached to a subscription or an updates stream. */
export interface StreamListener {
  /**
   * Queues NDJSON lines; returns `false` when the client is too far behind and must be dropped.
   * `force` queues regardless of the limit (the initial snapshot, already held in memory). A
   * Buffer is the UTF-8 encoding of the lines, made once for every client of a subscription.
   */
  send(line: string | Buffer, force?: boolean): boolean
  /** Ends the stream, after an optional final line (an `error` event). */
  end(lastLine?: string): void
}

/**
 * A changed primary key as subscriptions note it: its identity text, or null when it cannot be
 * re-read by key (it holds a blob).
 */
export interface NotedKey { text: string | null }

/** The {@link NotedKey} of `pkValues`: computed once per change for every subscription on its table. */
export function notedKey (pkValues: readonly SqlValue[]): NotedKey {
  return { text: keyIsJsonSafe(pkValues) ? cellsKey(pkValues) : null }
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

/** Bounds on one evaluation: a subscription's whole result is held in memory. */
export interface QueryLimits {
  /** Most rows a subscription's result may have. */
  maxRows: number
  /** Longest a single evaluation may run, in ms (checked between rows). */
  timeoutMs: number
}

/** Limits applied when none are given. */
export const defaultQueryLimits: QueryLimits = { maxRows: 200_000, timeoutMs: 10_000 }

/**
 * Runs a statement through the store and collects every row; throws `InvalidRequestError` when
 * the result is larger than `limits.maxRows` or takes longer than `limits.timeoutMs`.
 */
export function runQuery (store: ApiStore, statement: Statement, limits: QueryLimits = defaultQueryLimits): QueryRun {
  const t0 = performance.now()
  const deadline = t0 + limits.timeoutMs
  const cur = store.query(statement)
  try {
    const rows: SqlValue[][] = []
    for (const r of cur.rows) {
      rows.push(r)
      if (rows.length > limits.maxRows) throw new InvalidRequestError(`subscription result exceeds ${limits.maxRows} rows`)
      if ((rows.length & 255) === 0 && performance.now() > deadline) throw new InvalidRequestError(`subscription query took longer than ${limits.timeoutMs} ms`)
    }
    return { columns: cur.columns, rows, time: (performance.now() - t0) / 1000 }
  } finally { cur.close() }
}

/**
 * Where each of a subscription's created columns is in a later result (positions into `now`), or
 * null when one cannot be found. Columns are matched in order by name and, when known, by the table
 * column they read, so columns a schema change added (anywhere, e.g. by `*` over a join) are
 * skipped.
 */
export function shapeProjection (shape: readonly ColumnInfo[], now: readonly ColumnInfo[]): number[] | null {
  const out: number[] = []
  let j = 0
  for (const c of shape) {
    while (j < now.length && !sameColumn(c, now[j]!)) j++
    if (j === now.length) return null
    out.push(j++)
  }
  return out
}

function sameColumn (a: ColumnInfo, b: ColumnInfo): boolean {
  if (a.name !== b.name) return false
  if (a.table == null || b.table == null) return true
  return a.table === b.table && a.column === b.column
}

/** The NDJSON line of an `error` event. */
export function errorLine (message: string): string {
  return stringifyJson({ error: message }) + '\n'
}

/** The `corro-query-hash` of a (parameter-expanded) SQL text: its SeaHash, 16 hex chars, as Corrosion. */
export function queryHash (sql: string): string {
  return seahashHex(sql)
}

/** Column index lists to key rows by, most specific first (see `row-diff.ts`). */
export function keyCandidates (columns: readonly ColumnInfo[], schema: SchemaInfo): KeyCandidate[] {
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
  const out: KeyCandidate[] = []
  if (pkCovers) out.push({ columns: pkIdx, identity: true })
  if (origin.length > 0 && origin.length < columns.length) out.push({ columns: origin, identity: false })
  return out
}

/** Init of {@link Subscription}. */
export interface SubscriptionInit {
  store: ApiStore
  statement: Statement
  tables: Set<string>
  /** From `analyzeQuery`: the query can be re-evaluated for changed keys only. */
  rowLocal?: boolean
  retainChanges: number
  storage?: SubStorage | undefined
  now: () => number
  /** Bounds on each evaluation (default {@link defaultQueryLimits}). */
  limits?: QueryLimits
  /** Restored state; absent for a new subscription (then the query runs at once). */
  restored?: PersistedSubscription
}

/** A live subscription (see module doc). */
export class Subscription {
  readonly id: string
  readonly hash: string
  readonly statement: Statement
  tables: Set<string>
  /** Every result column, hidden keys included. */
  private heldColumns: string[] = []
  nextRowid = 1
  lastChangeId = 0
  /** Seconds the last full evaluation took (reported in `eoq.time`). */
  evalTime = 0
  /** When the last client left (ms), or null while clients are attached. */
  idleSince: number | null
  private readonly retained: HeldChange[] = []
  private readonly listeners = new Set<StreamListener>()
  private readonly store: ApiStore
  private readonly storage: SubStorage | undefined
  private readonly retainChanges: number
  private keys: KeyCandidate[] = []
  private keysKnown = false
  private readonly now: () => number
  private readonly rowLocal: boolean
  private readonly limits: QueryLimits
  private plan: IncrementalPlan | null = null
  /**
   * The result columns the subscription was created with. Its shape is fixed then, as Corrosion
   * fixes it by expanding `*` at creation: when a schema change adds columns to what the SQL
   * returns, rows are projected back to these (see {@link shapeProjection}).
   */
  private shape: ColumnInfo[] | null = null
  /** The keyed re-read texts, and what they were built from. */
  private keyedCache: { sql: KeyedSql, plan: IncrementalPlan, statement: Statement, columns: number } | null = null
  /** The current result by row id, in result order. */
  private byRowid = new Map<number, SubRow>()
  /** The same rows by primary key, kept while the plan is incremental. */
  private keyed: KeyedRows | null = null
  private readonly pendingKeys = new Map<string, SqlValue[]>()
  private pendingFull = false
  /** What runs: the statement, or it with hidden primary-key columns prepended (`hidden-keys.ts`). */
  private evalStatement: Statement
  /** Leading result columns that are hidden keys, never sent to clients. */
  private hidden = 0

  constructor (init: SubscriptionInit) {
    this.store = init.store
    this.storage = init.storage
    this.statement = init.statement
    this.tables = init.tables
    this.retainChanges = init.retainChanges
    this.hash = queryHash(expandSql(init.statement))
    this.now = init.now
    this.rowLocal = init.rowLocal ?? false
    this.limits = init.limits ?? defaultQueryLimits
    this.idleSince = init.now()
    this.evalStatement = init.statement
    const keys = withHiddenKeys(init.statement, init.tables, this.rowLocal, this.store.schema())
    const r = init.restored
    if (r != null) {
      this.id = r.id
      this.heldColumns = r.columns
      this.shape = r.columns.map(name => ({ name, type: null }))
      this.hidden = hiddenCount(r.columns)
      if (this.hidden > 0 && keys != null) this.evalStatement = keys.statement
      for (const row of r.rows) this.byRowid.set(row.rowid, row)
      this.nextRowid = r.nextRowid
      this.lastChangeId = r.lastChangeId
      for (const c of r.changes) this.retained.push({ type: c.type, rowid: c.rowid, cells: c.cells, changeId: c.changeId, skip: 0 })
      return
    }
    this.id = randomUUID()
    let run: QueryRun | null = null
    if (keys != null) {
      try {
        run = runQuery(this.store, keys.statement, this.limits)
        if (hiddenKeysResolved(run.columns, keys)) this.evalStatement = keys.statement
        else run = null
      } catch { run = null }
    }
    run ??= runQuery(this.store, this.statement, this.limits)
    this.evalTime = run.time
    this.shape = run.columns
    this.learnColumns(run.columns)
    this.warmKeyed()
    for (const cells of run.rows) {
      const row = { rowid: this.nextRowid++, cells }
      this.byRowid.set(row.rowid, row)
    }
    this.storage?.create(this.persisted())
  }

  /** The current result rows with their row ids, in result order (as clients see them). */
  get rows (): SubRow[] {
    const h = this.hidden
    return [...this.byRowid.values()].map(r => h === 0 ? r : { rowid: r.rowid, cells: r.cells.slice(h) })
  }

  /** The result columns as clients see them. */
  get columns (): string[] { return this.heldColumns.slice(this.hidden) }

  /** Number of attached clients. */
  get listenerCount (): number { return this.listeners.size }

  /** The oldest change id still retained (`lastChangeId + 1` when none is). */
  get minChangeId (): number { return this.retained[0]?.changeId ?? this.lastChangeId + 1 }

  private persisted (): PersistedSubscription {
    return { id: this.id, statement: this.statement, columns: this.heldColumns, rows: [...this.byRowid.values()], changes: this.retained.map(visible), nextRowid: this.nextRowid, lastChangeId: this.lastChangeId }
  }

  private learnColumns (columns: ColumnInfo[]): void {
    const schema = this.store.schema()
    this.heldColumns = columns.map(c => c.name)
    this.hidden = hiddenCount(this.heldColumns)
    this.keys = keyCandidates(columns, schema)
    this.plan = incrementalPlan(this.rowLocal, this.tables, columns, schema)
    this.keysKnown = true
  }

  /** Whether changed rows are re-read by key instead of re-running the whole query. */
  get incremental (): boolean { return this.plan != null }

  /** Notes a committed change to one of the subscription's tables (before {@link evaluate}). */
  noteChange (table: string, pkValues: SqlValue[], key?: NotedKey): void {
    if (this.plan == null || this.pendingFull) { this.pendingFull = true; return }
    const k = key ?? notedKey(pkValues)
    if (table !== this.plan.table || this.pendingKeys.size >= MAX_KEYED || k.text == null) {
      this.pendingFull = true
      this.pendingKeys.clear()
      return
    }
    this.pendingKeys.set(k.text, pkValues)
  }

  /**
   * Brings the result up to date, emits and records the differences; returns how many change
   * events it emitted. Re-reads only the noted keys when the query allows it, else re-runs it in
   * full.
   */
  evaluate (): number {
    const t0 = performance.now()
    const prevHidden = this.hidden
    const keys = [...this.pendingKeys.values()]
    const full = this.pendingFull || this.plan == null || keys.length === 0
    this.pendingKeys.clear()
    this.pendingFull = false
    let diff: { changes: RowDiffChange[], nextRowid: number } | null = null
    if (!full && this.plan != null) {
      try {
        const fresh = this.readKeyed(this.plan, keys)
        this.keyed ??= indexRows(this.byRowid, this.plan)
        diff = applyKeyed(this.keyed, this.plan, keys, fresh.rows, this.nextRowid)
      } catch {
        // The wrapped form is not accepted (an unusual statement): use full runs from now on.
        this.plan = null
        this.keyed = null
      }
    }
    if (diff == null) {
      let run: QueryRun
      try {
        run = runQuery(this.store, this.evalStatement, this.limits)
      } catch (err) {
        // The hidden-key form stopped working (e.g. the schema changed): run the statement itself.
        if (this.evalStatement === this.statement) throw err
        this.evalStatement = this.statement
        run = runQuery(this.store, this.statement, this.limits)
      }
      let names = run.columns.map(c => c.name)
      if (this.keysKnown && names.join('\u0000') !== this.heldColumns.join('\u0000')) {
        const proj = this.shape != null ? shapeProjection(this.shape, run.columns) : null
        if (proj != null) {
          // the schema grew: keep the created shape; re-read by key no longer fits, run in full
          run = { columns: proj.map(j => run.columns[j]!), rows: run.rows.map(r => proj.map(j => r[j]!)), time: run.time }
          names = run.columns.map(c => c.name)
          this.plan = null
        }
      }
      if (!this.keysKnown || names.join('\u0000') !== this.heldColumns.join('\u0000')) this.learnColumns(run.columns)
      const d = diffRows([...this.byRowid.values()], run.rows, this.keys, this.nextRowid)
      this.byRowid = new Map(d.rows.map(r => [r.rowid, r]))
      this.keyed = null
      diff = d
    }
    this.nextRowid = diff.nextRowid
    this.evalTime = (performance.now() - t0) / 1000
    if (diff.changes.length === 0) return 0
    // Events share the held cells (no copy without the hidden key columns: retained events are
    // most of what a subscription allocates and keeps). Deleted rows were held in the previous
    // column layout (it changes only if the schema did).
    const h = this.hidden
    const events: HeldChange[] = []
    for (const c of diff.changes) {
      const e: HeldChange = { type: c.type, rowid: c.rowid, cells: c.cells, changeId: ++this.lastChangeId, skip: c.type === 'delete' ? prevHidden : h }
      events.push(e)
      this.retained.push(e)
    }
    if (this.retained.length > this.retainChanges) this.retained.splice(0, this.retained.length - this.retainChanges)
    this.storage?.commit(this.id, events.map(visible), diff.changes.map(c => ({ rowid: c.rowid, cells: c.type === 'delete' ? null : c.cells })), this.nextRowid, this.minChangeId)
    if (this.listeners.size > 0) {
      let text = ''
      for (const e of events) text += changeLine(e)
      // Encoded once for every client (each stream would otherwise encode the string itself).
      const data = this.listeners.size > 1 ? Buffer.from(text) : text
      // A dropped client is removed while iterating, which a Set allows.
      for (const l of this.listeners) this.deliver(l, data)
    }
    return events.length
  }

  /**
   * Runs both keyed re-read forms once with keys that match nothing, so the store prepares them
   * now rather than on the first commit that needs them (and a form it refuses is found now).
   */
  private warmKeyed (): void {
    const plan = this.plan
    if (plan == null) return
    const none = plan.pkPos.map(() => null)
    try {
      for (const keys of [[none], [none, none]]) this.readKeyed(plan, keys)
    } catch {
      this.plan = null
    }
  }

  /**
   * Re-reads the result rows of `keys`. At most one row per key comes back (the query is
   * row-local), so the store's whole-result read is used when it has one.
   */
  private readKeyed (plan: IncrementalPlan, keys: readonly SqlValue[][]): { rows: SqlValue[][] } {
    const statement = keyedStatement(this.evalStatement, this.heldColumns.length, plan, keys, this.keyedTexts(plan))
    return this.store.queryAll != null ? this.store.queryAll(statement) : runQuery(this.store, statement, this.limits)
  }

  /** The keyed re-read texts for `plan`, built once per plan, statement and column layout. */
  private keyedTexts (plan: IncrementalPlan): KeyedSql {
    const c = this.keyedCache
    if (c != null && c.plan === plan && c.statement === this.evalStatement && c.columns === this.heldColumns.length) return c.sql
    const sql = keyedSql(this.evalStatement, this.heldColumns.length, plan)
    this.keyedCache = { sql, plan, statement: this.evalStatement, columns: this.heldColumns.length }
    return sql
  }

  private deliver (l: StreamListener, text: string | Buffer, force = false): void {
    if (!l.send(text, force)) {
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
    if (text !== '') this.deliver(l, text, true)
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

/**
 * The NDJSON line of a `change` event, `{"change":[type, rowid, [cells…], change_id]}`. Written
 * directly rather than through `stringifyJson`: its replacer makes `JSON.stringify` slow, and
 * `encodeRow` already turns bigints into raw JSON numbers.
 */
function changeLine (c: HeldChange): string {
  const cells = c.skip === 0 ? c.cells : c.cells.slice(c.skip)
  return `{"change":["${c.type}",${c.rowid},${JSON.stringify(encodeRow(cells))},${c.changeId}]}\n`
}

/** A retained change event with its cells as held: the first `skip` are hidden key columns. */
interface HeldChange extends StoredChange {
  skip: number
}

/** The change as clients see it (hidden key columns removed). */
function visible (c: HeldChange): StoredChange {
  return { type: c.type, rowid: c.rowid, cells: c.skip === 0 ? c.cells : c.cells.slice(c.skip), changeId: c.changeId }
}

/** Public data types of the store. */

/**
 * A value as SQLite stores it. Blobs are `Uint8Array`. In `Change.val` an INTEGER is always a
 * `bigint` and a REAL always a `number`, so the two storage classes survive a round trip; elsewhere
 * (query rows, `pkValues`) integers are `number` when safe and `bigint` beyond 2^53.
 */
export type SqlValue = null | number | bigint | string | Uint8Array

/** One cell change, with cr-sqlite's `crsql_changes` columns. */
export interface Change {
  table: string
  /** Primary key in cr-sqlite's packed encoding. */
  pk: Uint8Array
  /** Column name, or `'-1'` for the row sentinel (create/delete). */
  cid: string
  val: SqlValue
  colVersion: number
  /** The origin actor's version that wrote this cell. */
  dbVersion: number
  /** The origin actor (16 bytes). */
  siteId: Uint8Array
  /** Causal length of the row: odd alive, even deleted. */
  cl: number
  /** Position of the change inside its version. */
  seq: number
}

/**
 * A chunk of one version of one actor. `seqs` is the inclusive seq range this chunk covers; the
 * version is complete once chunks cover `0..lastSeq`. Empty `changes` with `seqs = [0, lastSeq]`
 * means the version was cleared (every change in it was overwritten since).
 */
export interface Changeset {
  actor: Uint8Array
  version: number
  seqs: [number, number]
  lastSeq: number
  /** Hybrid logical clock of the version (NTP64). */
  ts: bigint
  changes: Change[]
}

/** A partially received version: which seq ranges are here. */
export interface PartialVersion {
  version: number
  seqs: [number, number][]
  lastSeq: number
}

/** What a store holds of one actor. */
export interface ActorSummary {
  actor: Uint8Array
  /** Highest version known (0 = none). */
  head: number
  /** Missing version ranges at or below `head` (inclusive). */
  gaps: [number, number][]
  /** Versions of which only some seqs are here. They are also inside `gaps` or above nothing. */
  partials: PartialVersion[]
}

/** What a store holds, per actor; a peer diffs against it with `needs()`. */
export interface SyncSummary {
  actors: ActorSummary[]
}

/** What a store lacks of one actor. */
export interface ActorNeeds {
  actor: Uint8Array
  /** Whole version ranges (inclusive). */
  full: [number, number][]
  /** Missing seq ranges of single versions. */
  partial: { version: number; seqs: [number, number][] }[]
}

/** What a store lacks, per actor; `serve()` answers it. */
export interface SyncNeeds {
  actors: ActorNeeds[]
}

/** How a row changed in a committed transaction. */
export type RowChangeKind = 'insert' | 'update' | 'delete'

/** One changed row of one table. */
export interface RowChange {
  table: string
  pk: Uint8Array
  pkValues: SqlValue[]
  kind: RowChangeKind
}

/** Delivered after each committed transaction that changed CRR rows. */
export interface CommitEvent {
  source: 'local' | 'remote'
  /** The changed rows; built when first read (read them in the listener), the same array after. */
  readonly changes: RowChange[]
}

/** One SQL statement with positional or named parameters. */
export interface Statement {
  sql: string
  params?: readonly SqlValue[] | Readonly<Record<string, SqlValue>>
}

/** What one statement did. */
export interface StatementResult {
  rowsAffected: number
  /** Seconds spent running it. */
  time: number
}

/** What a committed local transaction produced. */
export interface TransactionResult {
  /** This actor's new version, or `null` when no CRR row changed. */
  version: number | null
  results: StatementResult[]
  /** The version's changes cut into chunks (computed on first access). */
  readonly changesets: Changeset[]
}

/** Outcome of `apply()`. */
export interface ApplyResult {
  status: 'applied' | 'buffered' | 'duplicate' | 'cleared' | 'own'
  /** Actor id as 32 hex characters. */
  actor: string
  version: number
  /** Number of cell changes that won and were written. */
  changed: number
}

/** A column of a user table. */
export interface TableColumn {
  name: string
  type: string
  notNull: boolean
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number
  defaultValue: string | null
}

/** A user table. */
export interface TableInfo {
  name: string
  sql: string
  columns: TableColumn[]
}

/** An index on a user table. */
export interface IndexInfo {
  name: string
  table: string
  sql: string
}

/** The user schema. */
export interface SchemaInfo {
  tables: TableInfo[]
  indexes: IndexInfo[]
}

/** What `applySchema` did. */
export interface SchemaChange {
  createdTables: string[]
  addedColumns: { table: string; column: string }[]
  createdIndexes: string[]
  droppedIndexes: string[]
  /** True when the schema was already in place. */
  unchanged: boolean
}

/** Per-actor replication state, for `patina sync status`. */
export interface ActorStatus {
  actor: string
  head: number
  gaps: [number, number][]
  partials: PartialVersion[]
}

/** A read cursor. */
/** A result column of a query: its name, and the table column it reads when it reads one directly. */
export interface QueryColumn {
  name: string
  /** Declared type of the table column, `null` for an expression. */
  type: string | null
  /** The table the value comes from, `null` for an expression. */
  table: string | null
  /** The table column the value comes from, `null` for an expression. */
  column: string | null
}

/** Rows of a read-only query. */
export interface QueryCursor {
  columns: QueryColumn[]
  rows: IterableIterator<SqlValue[]>
  close(): void
}

/** An injected logger (pino-compatible subset). */
export interface StoreLogger {
  debug?(obj: unknown, msg?: string): void
  info?(obj: unknown, msg?: string): void
  warn?(obj: unknown, msg?: string): void
  error?(obj: unknown, msg?: string): void
}

/** Options for any async call. */
export interface AbortOptions {
  signal?: AbortSignal
}

/**
 * The ports api-server consumes. The package imports no other Patina package: the agent adapts its
 * store and cluster to these interfaces, and tests can implement them over plain SQLite.
 */

/** Options for any async call: aborting stops work at the next safe point. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A value as SQLite stores it. Blobs are `Uint8Array`; integers beyond 2^53 are `bigint`. */
export type SqlValue = null | number | bigint | string | Uint8Array

/**
 * One SQL statement with optional positional (`?`, `?1`) or named (`:name`, `$name`, `@name`)
 * parameters. Named parameter keys come as the client wrote them, usually with their sigil
 * (`":id"`); a store must accept keys with or without it. A `number` that is an integer binds as
 * INTEGER, any other number as REAL.
 */
export interface Statement {
  sql: string
  params?: readonly SqlValue[] | Readonly<Record<string, SqlValue>>
}

/** What one write statement did. */
export interface StatementResult {
  rowsAffected: number
  /** Seconds spent running the statement. */
  time: number
}

/** What a committed transaction did. */
export interface TransactionOutcome {
  /** One entry per statement, in order. */
  results: StatementResult[]
  /**
   * The version the store assigned to this transaction (per actor: 1, 2, 3, …), or `null` when the
   * transaction changed no replicated row.
   */
  version: number | null
}

/** A result column: its name and the declared type of the column it comes from, if any. */
export interface ColumnInfo {
  name: string
  /** Declared type (`INTEGER`, `TEXT`, `BLOB`, …) when the column maps to a table column, else `null`. */
  type: string | null
  /**
   * The table the column is read from, when it maps directly to a table column (optional: lets
   * subscriptions key rows by primary key and report `update` instead of delete + insert).
   */
  table?: string | null
  /** The name of that table column, when `table` is set. */
  column?: string | null
}

/** An open read: column descriptions and a lazy row iterator. `close()` releases it early. */
export interface QueryCursor {
  columns: ColumnInfo[]
  rows: IterableIterator<SqlValue[]>
  close(): void
}

/** How a row changed in a committed transaction. */
export type RowChangeKind = 'insert' | 'update' | 'delete'

/** One changed row of one table. */
export interface RowChange {
  table: string
  /** The primary key in cr-sqlite's packed encoding (the bytes `/v1/updates` clients see). */
  pk: Uint8Array
  /** The same primary key as values, in primary-key column order. */
  pkValues: SqlValue[]
  kind: RowChangeKind
}

/** Delivered after every committed transaction that changed replicated rows, local or merged. */
export interface CommitEvent {
  source: 'local' | 'remote'
  changes: RowChange[]
}

/** A column of a user table. */
export interface TableColumn {
  name: string
  /** Declared type as written in the schema (may be empty). */
  type: string
  notNull: boolean
  /** 1-based position in the primary key, 0 when not part of it. */
  pk: number
  defaultValue: string | null
}

/** A user table as the schema files define it. */
export interface TableInfo {
  name: string
  columns: TableColumn[]
  /** The `CREATE TABLE` statement. */
  sql: string
}

/** An index on a user table. */
export interface IndexInfo {
  name: string
  table: string
  sql: string
}

/** The user-visible schema (internal bookkeeping tables excluded). */
export interface SchemaInfo {
  tables: TableInfo[]
  indexes: IndexInfo[]
}

/**
 * The store as the API sees it. Implementations: the agent's adapter over `@patina/crdt-store`;
 * tests' adapters over plain better-sqlite3. `apiStoreCompliance` (from `./testing`) checks any of them.
 */
export interface ApiStore {
  /**
   * Runs every statement in one transaction and commits it. Throws a typed error on the first
   * failing statement, in which case nothing is written.
   */
  transaction(statements: readonly Statement[], options?: AbortOptions): Promise<TransactionOutcome>
  /**
   * Prepares and starts a read-only query. Throws `StatementNotReadonlyError` for a statement that
   * could write (any message: HTTP clients get Corrosion's fixed text), and a typed SQL error for
   * invalid SQL; nothing is written either way.
   */
  query(statement: Statement): QueryCursor
  /**
   * Optional: runs `fn` synchronously with the `query` / `queryAll` calls it makes sharing one
   * read transaction (one snapshot, one lock instead of one per query) and returns its result.
   * Subscription re-evaluation runs each slice of subscriptions through it, so a thousand small
   * re-reads cost a thousand steps rather than a thousand read transactions. Inside `fn` every
   * cursor is drained or closed before the next `query`; one left open when `fn` returns must
   * still work. Writes committed meanwhile are seen by the next batch.
   */
  readBatch?<T>(fn: () => T): T
  /**
   * Optional: runs a read-only query and returns every row at once, with the same checks and errors
   * as `query`. Subscriptions use it for re-reads that are small by construction (the rows of a
   * few changed keys), where one whole-result call costs less than opening and draining a cursor.
   */
  queryAll?(statement: Statement): { columns: readonly ColumnInfo[], rows: SqlValue[][] }
  /** Subscribes to commit notifications; returns the function that unsubscribes. */
  onCommit(listener: (event: CommitEvent) => void): () => void
  /** The current user schema. */
  schema(): SchemaInfo
}

/** A cluster member as `GET /v1/cluster/members` reports it. */
export interface ClusterMember {
  /** The member's actor id, as a hex string. */
  id: string
  addr: string
  state: 'alive' | 'suspect' | 'down' | 'left'
  /** Round-trip time to it in milliseconds, when measured. */
  rttMs?: number
  incarnation?: number
}

/** The figures `GET /v1/health` judges. */
export interface HealthFigures {
  /** Total missing versions across all actors. */
  gaps: number
  /**
   * Alive members other than this node: Corrosion counts its `__corro_members` table, which only
   * ever lists peers (so a lone node reports 0).
   */
  members: number
  /** p99 of commit lag of remote changes over the last 120 s, in seconds; `null` with no sample. */
  p99Lag: number | null
  /** Length of the apply queue. */
  queueSize: number
}

/** The cluster as the API sees it. Absent in a single-node deployment. */
export interface ApiCluster {
  members(): ClusterMember[]
  health(): HealthFigures
}

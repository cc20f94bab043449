import Database from 'better-sqlite3'
import type { Database as Db } from 'better-sqlite3'
import { applyChangeset } from './apply-changeset.ts'
import { forgetIdentity } from './backup-identity.ts'
import { compaction } from './compaction.ts'
import { AbortError, StoreOpenError } from './errors.ts'
import { localWrites } from './local-writes.ts'
import { reads } from './reads.ts'
import { schemaChanges } from './schema-changes.ts'
import { INTERNAL_DDL } from './store-statements.ts'
import { storeState } from './store-state.ts'
import { syncServe } from './sync-serve.ts'
import type {
  AbortOptions, ActorStatus, ApplyResult, Change, Changeset, CommitEvent, QueryColumn, QueryCursor,
  SchemaChange, SchemaInfo, SqlValue, Statement, StatementResult, StoreLogger, SyncNeeds, SyncSummary, TransactionResult
} from './types.ts'

export { VERSION_SQL, VERSION_RANGE_SQL } from './store-statements.ts'

/** Options of `openStore`. */
export interface StoreInit {
  /** SQLite file path, or `':memory:'`. */
  path: string
  /** Physical clock in ms for the HLC (default `Date.now`). */
  now?: () => number
  /** Target size of a changeset chunk in bytes (default 8192). */
  chunkBytes?: number
  logger?: StoreLogger
}

/** The handle a `transaction(fn)` callback writes through. */
export interface Tx {
  /** Runs a write (or any) statement; returns rows affected. */
  run(sql: string, params?: Statement['params']): StatementResult & { lastInsertRowid: number | bigint }
  /** Runs a query inside the transaction and returns its rows as objects. */
  all(sql: string, params?: Statement['params']): Record<string, SqlValue>[]
}

/** An embedded multi-writer SQLite with cr-sqlite semantics. See the package README. */
export interface CrdtStore {
  readonly siteId: Uint8Array
  applySchema(sql: string | readonly string[]): SchemaChange
  transaction(statements: readonly Statement[]): TransactionResult
  transaction<T>(fn: (tx: Tx) => T): TransactionResult & { value: T }
  read(sql: string, params?: Statement['params']): QueryCursor
  /** A read-only query with every row at once (cheaper than a cursor for small results). */
  readAll(sql: string, params?: Statement['params']): { columns: QueryColumn[]; rows: SqlValue[][] }
  /**
   * Runs `fn` with the reads it makes sharing one read transaction: one snapshot, one lock, instead
   * of one per query. Writes committed meanwhile are seen after it.
   */
  readBatch<T>(fn: () => T): T
  schema(): SchemaInfo
  apply(changeset: Changeset): ApplyResult
  /**
   * Applies many changesets in one SQLite transaction (cheaper than one `apply` each: one commit).
   * Each gets its own savepoint: one that fails leaves its typed error in its slot of the result
   * and changes nothing; the rest commit. Commit events follow the commit.
   */
  applyBatch(changesets: readonly Changeset[]): Array<ApplyResult | Error>
  summary(): SyncSummary
  needs(remote: SyncSummary): SyncNeeds
  serve(needs: SyncNeeds): Iterable<Changeset>
  /**
   * Drops, from every version's row list, the rows that no longer hold any of its cells (writes do
   * a little of this each time; call it from a maintenance timer to finish the job).
   */
  compact(): { versions: number; keysDropped: number }
  /** Changes of one actor's versions `from..to` (inclusive) that are still current. */
  changes(actor: Uint8Array, from: number, to: number): Change[]
  syncStatus(): ActorStatus[]
  gapCount(): number
  onCommit(listener: (ev: CommitEvent) => void): () => void
  /**
   * Writes a consistent snapshot. By default the copy forgets this node's identity: this actor
   * becomes an ordinary peer in it, and a store opened on it creates a fresh site id, so a restored
   * node never reuses version numbers this node already sent. `keepIdentity` copies it as is.
   */
  backup(destPath: string, options?: AbortOptions & { progress?: (done: number, total: number) => void; keepIdentity?: boolean }): Promise<void>
  close(): void
}

/** Opens (or creates) a store. Throws `StoreOpenError` when the file cannot be used. */
export function openStore (init: StoreInit): CrdtStore {
  if (init == null || typeof init.path !== 'string') throw new StoreOpenError('openStore needs a path (a file or ":memory:")')
  let db: Db | undefined
  try {
    db = new Database(init.path)
    db.pragma('journal_mode = WAL')
    db.pragma('synchronous = NORMAL')
    db.exec(INTERNAL_DDL)
    return setup(db, init)
  } catch (err) {
    try { db?.close() } catch { /* already unusable */ }
    throw new StoreOpenError(`cannot open store at ${init.path}: ${(err as Error).message}`, { cause: err })
  }
}

function setup (db: Db, init: StoreInit): CrdtStore {
  const state = storeState(db, init)
  const { siteId, tables, listeners, alive } = state
  const { compactStep, compact } = compaction(state)
  const sync = syncServe(state)
  const local = localWrites(state, compactStep, sync.versionChangesets)
  const r = reads(state)
  // a schema change drops prepared statements on both connections
  const { applySchema, schema } = schemaChanges(state, { ...local, clearStatements () { local.clearStatements(); r.clear() } })
  const { apply, applyBatch } = applyChangeset(state, compactStep)

  return {
    siteId,
    applySchema,
    transaction: local.transaction as CrdtStore['transaction'],
    read: r.read,
    readAll: r.readAll,
    readBatch: r.readBatch,
    schema,
    apply,
    applyBatch,
    summary: sync.summary,
    needs: sync.needs,
    serve: sync.serve,
    changes: sync.changes,
    compact,
    syncStatus: sync.syncStatus,
    gapCount: sync.gapCount,
    onCommit (l) { listeners.add(l); return () => { listeners.delete(l) } },
    async backup (dest, options) {
      alive()
      const signal = options?.signal
      if (signal?.aborted === true) throw new AbortError()
      const r = await db.backup(dest, {
        progress ({ totalPages, remainingPages }) {
          if (signal?.aborted === true) throw new AbortError()
          options?.progress?.(totalPages - remainingPages, totalPages)
          return 200
        }
      })
      if (aborted(signal)) throw new AbortError()
      if (options?.keepIdentity !== true) forgetIdentity(dest, [...tables.values()].map(t => t.meta))
      options?.progress?.(r.totalPages, r.totalPages)
    },
    close: state.close
  }
}


function aborted (signal: AbortSignal | undefined): boolean { return signal?.aborted === true }

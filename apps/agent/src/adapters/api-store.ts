import type { ApiStore, Statement, TransactionOutcome, QueryCursor, CommitEvent, SchemaInfo, SqlValue } from '@patina/api-server'
import { StatementNotReadonlyError } from '@patina/crdt-store'
import type { Changeset } from '@patina/crdt-store'

/** The part of `@patina/crdt-store`'s store the API adapter uses. */
export interface CrdtStoreLike {
  transaction(statements: readonly Statement[]): { version: number | null; results: Array<{ rowsAffected: number; time: number }>; readonly changesets: readonly Changeset[] }
  read(sql: string, params?: Statement['params']): QueryCursor
  readAll(sql: string, params?: Statement['params']): { columns: QueryCursor['columns']; rows: SqlValue[][] }
  readBatch<T>(fn: () => T): T
  onCommit(listener: (event: CommitEvent) => void): () => void
  schema(): SchemaInfo
}

/** Options of the API store adapter. */
export interface ApiStoreAdapterInit {
  store: CrdtStoreLike
  /** Runs a store call, turning fatal SQLite errors into a node stop. */
  guard: <T>(fn: () => T) => T
  /** Receives the changesets of every local commit (to broadcast them); may wait for queue room. */
  onLocalCommit: (changesets: readonly Changeset[], options?: { signal?: AbortSignal }) => Promise<void> | void
  /** Resolves when local writes may run (the node has caught up after starting); none: always. */
  writesReady?: (signal?: AbortSignal) => Promise<void>
}

/**
 * Runs a read; the store's read-only connection cannot even prepare a write to a replicated table
 * (its triggers call the writer's SQL functions): that is a write, so say so.
 */
function readOnly<T> (fn: () => T): T {
  try {
    return fn()
  } catch (err) {
    if ((err as Error).name === 'SqlError' && /no such function: patina_/.test((err as Error).message)) {
      throw new StatementNotReadonlyError('statement is not readonly', { cause: err })
    }
    throw err
  }
}

/**
 * Adapts the crdt-store to api-server's `ApiStore` port: writes go through the store and their
 * changesets are handed to gossip; reads, schema and commit events pass straight through.
 */
export function createApiStore (init: ApiStoreAdapterInit): ApiStore {
  const { store, guard } = init
  return {
    async transaction (statements, options): Promise<TransactionOutcome> {
      options?.signal?.throwIfAborted()
      await init.writesReady?.(options?.signal)
      const result = guard(() => store.transaction(statements))
      // Committed already; waiting here only slows the writer down when gossip is backed up.
      if (result.changesets.length > 0) await init.onLocalCommit(result.changesets, options)
      return { version: result.version, results: result.results }
    },
    query (statement) {
      const cursor = readOnly(() => guard(() => store.read(statement.sql, statement.params)))
      // Rows are read lazily while the response streams; fatal errors there must stop the node too.
      const rows = cursor.rows
      const guarded: IterableIterator<QueryCursor['rows'] extends IterableIterator<infer R> ? R : never> = {
        next: () => guard(() => rows.next()),
        [Symbol.iterator] () { return this }
      }
      return { columns: cursor.columns, rows: guarded, close: () => { cursor.close() } }
    },
    // subscriptions re-read many small results per commit: one snapshot per slice, whole results
    queryAll (statement) {
      return readOnly(() => guard(() => store.readAll(statement.sql, statement.params)))
    },
    readBatch (fn) {
      return guard(() => store.readBatch(fn))
    },
    onCommit (listener) {
      return store.onCommit(listener)
    },
    schema () {
      return store.schema()
    }
  }
}

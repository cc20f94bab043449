/** Errors thrown by the store. Match them by `err.name`, not `instanceof`. */

/**
 * A schema change is destructive, unsupported, invalid, or breaks a CRR rule; nothing was changed.
 * `statement` is the offending statement and `table`/`rule` name the table and broken rule, when known.
 */
export class SchemaChangeError extends Error {
  static name = 'SchemaChangeError'
  statement: string | undefined
  table: string | undefined
  rule: string | undefined
  constructor (message = 'unsupported schema change', options?: ErrorOptions & { statement?: string; table?: string; rule?: string }) {
    super(message, options)
    this.name = 'SchemaChangeError'
    this.statement = options?.statement
    this.table = options?.table
    this.rule = options?.rule
  }
}

/** SQLite rejected a statement (syntax error, constraint, missing table…). */
export class SqlError extends Error {
  static name = 'SqlError'
  /** SQLite's error code, e.g. `SQLITE_ERROR`, when known. */
  code: string | undefined
  constructor (message = 'SQL error', options?: ErrorOptions & { code?: string }) { super(message, options); this.name = 'SqlError'; this.code = options?.code }
}

/** `read()` was given a statement that could write. */
export class StatementNotReadonlyError extends Error {
  static name = 'StatementNotReadonlyError'
  constructor (message = 'statement is not read-only', options?: ErrorOptions) { super(message, options); this.name = 'StatementNotReadonlyError' }
}

/** A change names a table that is not a CRR here; the whole version was rejected. */
export class UnknownTableError extends Error {
  static name = 'UnknownTableError'
  constructor (message = 'unknown table', options?: ErrorOptions) { super(message, options); this.name = 'UnknownTableError' }
}

/** A change names a column the table does not have; the whole version was rejected. */
export class UnknownColumnError extends Error {
  static name = 'UnknownColumnError'
  constructor (message = 'unknown column', options?: ErrorOptions) { super(message, options); this.name = 'UnknownColumnError' }
}

/** Bytes or objects that are not a valid changeset, summary or needs message. */
export class MalformedChangesetError extends Error {
  static name = 'MalformedChangesetError'
  constructor (message = 'malformed changeset', options?: ErrorOptions) { super(message, options); this.name = 'MalformedChangesetError' }
}

/** Bytes that are not a valid packed primary key. */
export class MalformedPkError extends Error {
  static name = 'MalformedPkError'
  constructor (message = 'malformed packed primary key', options?: ErrorOptions) { super(message, options); this.name = 'MalformedPkError' }
}

/** A transaction wrote more cells than one version can number. */
export class TransactionTooLargeError extends Error {
  static name = 'TransactionTooLargeError'
  constructor (message = 'transaction writes too many cells', options?: ErrorOptions) { super(message, options); this.name = 'TransactionTooLargeError' }
}

/** The database file could not be opened or set up (not SQLite, missing directory, read-only…). */
export class StoreOpenError extends Error {
  static name = 'StoreOpenError'
  constructor (message = 'could not open the store', options?: ErrorOptions) { super(message, options); this.name = 'StoreOpenError' }
}

/** The store was used after `close()`. */
export class StoreClosedError extends Error {
  static name = 'StoreClosedError'
  constructor (message = 'store is closed', options?: ErrorOptions) { super(message, options); this.name = 'StoreClosedError' }
}

/** An operation was aborted through its `AbortSignal`. */
export class AbortError extends Error {
  static name = 'AbortError'
  constructor (message = 'operation aborted', options?: ErrorOptions) { super(message, options); this.name = 'AbortError' }
}

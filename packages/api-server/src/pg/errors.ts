import { errorStatus } from '../errors.ts'

/**
 * Errors of the PostgreSQL endpoint, and the table that maps any error the store or the endpoint
 * throws to the SQLSTATE code an ErrorResponse carries.
 */

/** Options of errors whose SQLSTATE depends on the situation. */
export interface SqlStateErrorOptions extends ErrorOptions {
  /** The SQLSTATE to report instead of the class default. */
  sqlState?: string
}

/**
 * A frontend message broke the protocol (bad length, unknown type, truncated field), or the client
 * took too long to start up. Closes the connection (SQLSTATE 08P01, or the one given).
 */
export class PgProtocolError extends Error {
  static name = 'PgProtocolError'
  /** SQLSTATE reported for this error. */
  readonly sqlState: string
  constructor (message = 'protocol violation', options?: SqlStateErrorOptions) {
    super(message, options)
    this.name = 'PgProtocolError'
    this.sqlState = options?.sqlState ?? '08P01'
  }
}

/** Authentication failed: wrong password, wrong user or a malformed SCRAM exchange. */
export class PgAuthError extends Error {
  static name = 'PgAuthError'
  constructor (message = 'password authentication failed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgAuthError'
  }
}

/** The client asked for something the endpoint does not implement (COPY, SAVEPOINT, RETURNING, …). */
export class PgUnsupportedError extends Error {
  static name = 'PgUnsupportedError'
  constructor (message = 'feature not supported', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgUnsupportedError'
  }
}

/** A statement arrived while the transaction block is failed; only ROLLBACK (or COMMIT) is accepted. */
export class PgTransactionAbortedError extends Error {
  static name = 'PgTransactionAbortedError'
  constructor (message = 'current transaction is aborted, commands ignored until end of transaction block', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgTransactionAbortedError'
  }
}

/**
 * A bound parameter (or COPY field) could not be decoded for its type (SQLSTATE 22P02, or the one
 * given, e.g. 22P04 for a malformed COPY row).
 */
export class PgParameterError extends Error {
  static name = 'PgParameterError'
  /** SQLSTATE reported for this error. */
  readonly sqlState: string
  constructor (message = 'invalid parameter value', options?: SqlStateErrorOptions) {
    super(message, options)
    this.name = 'PgParameterError'
    this.sqlState = options?.sqlState ?? '22P02'
  }
}

/**
 * A named prepared statement, portal or setting does not exist (SQLSTATE 26000 by default; 34000
 * for a portal, 42704 for a setting).
 */
export class PgUnknownObjectError extends Error {
  static name = 'PgUnknownObjectError'
  /** SQLSTATE reported for this error. */
  readonly sqlState: string
  constructor (message = 'prepared statement does not exist', options?: SqlStateErrorOptions) {
    super(message, options)
    this.name = 'PgUnknownObjectError'
    this.sqlState = options?.sqlState ?? '26000'
  }
}

/** A named prepared statement (42P05) or portal (42P03) already exists. */
export class PgDuplicateObjectError extends Error {
  static name = 'PgDuplicateObjectError'
  /** SQLSTATE reported for this error. */
  readonly sqlState: string
  constructor (message = 'prepared statement already exists', options?: SqlStateErrorOptions) {
    super(message, options)
    this.name = 'PgDuplicateObjectError'
    this.sqlState = options?.sqlState ?? '42P05'
  }
}

/** The running statement was canceled by a CancelRequest. */
export class PgQueryCanceledError extends Error {
  static name = 'PgQueryCanceledError'
  constructor (message = 'canceling statement due to user request', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgQueryCanceledError'
  }
}

/**
 * A write reached a read-only listener (`readonly: true`): SQLSTATE 25006, with PostgreSQL's
 * `cannot execute <VERB> in a read-only transaction` message.
 */
export class PgReadOnlyError extends Error {
  static name = 'PgReadOnlyError'
  readonly sqlState = '25006'
  constructor (verb = 'this statement', options?: ErrorOptions) {
    super(`cannot execute ${verb} in a read-only transaction`, options)
    this.name = 'PgReadOnlyError'
  }
}

/** The endpoint's options are invalid (bad `addr`, …). */
export class PgConfigError extends Error {
  static name = 'PgConfigError'
  constructor (message = 'invalid pg endpoint configuration', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgConfigError'
  }
}

/** `start()` on a running endpoint. */
export class PgServerStateError extends Error {
  static name = 'PgServerStateError'
  constructor (message = 'pg server already started', options?: ErrorOptions) {
    super(message, options)
    this.name = 'PgServerStateError'
  }
}

/** SQLite error texts, in order; the first match wins. */
const byMessage: ReadonlyArray<readonly [RegExp, string]> = [
  [/no such table/i, '42P01'],
  [/no such column/i, '42703'],
  [/syntax error|incomplete input|unrecognized token/i, '42601'],
  [/no such function/i, '42883'],
  [/UNIQUE constraint failed|PRIMARY KEY constraint failed/i, '23505'],
  [/NOT NULL constraint failed/i, '23502'],
  [/FOREIGN KEY constraint failed/i, '23503'],
  [/CHECK constraint failed/i, '23514'],
  [/constraint failed/i, '23000'],
  [/datatype mismatch|type mismatch/i, '42804'],
  [/too many SQL variables|column index out of range|bind or column index/i, '08P01'],
  [/already exists/i, '42P07'],
  [/database is locked|busy/i, '55P03'],
  [/readonly|read-only/i, '25006']
]

/**
 * The SQLSTATE for an error: an explicit `sqlState`, then our own `Pg*` names, then the SQLite
 * message text (it refines a store's generic `SqlError`), then the package's one `errorStatus`
 * table (`src/errors.ts`), else `XX000` (internal error).
 */
export function sqlStateOf (err: unknown): string {
  if (err != null && typeof err === 'object') {
    const e = err as { name?: unknown, message?: unknown, sqlState?: unknown }
    if (typeof e.sqlState === 'string' && /^[0-9A-Z]{5}$/.test(e.sqlState)) return e.sqlState
    const name = typeof e.name === 'string' ? e.name : ''
    // Our own errors are exact; a store's generic SQL error is refined by the SQLite message.
    const mapped = errorStatus[name]?.sqlstate
    if (name.startsWith('Pg') && mapped !== undefined) return mapped
    const message = typeof e.message === 'string' ? e.message : ''
    for (const [pattern, code] of byMessage) {
      if (pattern.test(message)) return code
    }
    if (mapped !== undefined) return mapped
  }
  return 'XX000'
}

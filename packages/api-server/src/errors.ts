/**
 * Errors of the API server, one class per error, matched by `err.name`. {@link errorStatus} is the
 * single table that maps an error name to its HTTP status and PostgreSQL SQLSTATE.
 */

/** The request body is not valid JSON or not a valid statement / statement list. */
export class InvalidRequestError extends Error {
  static name = 'InvalidRequestError'
  constructor (message = 'invalid request body', options?: ErrorOptions) { super(message, options); this.name = 'InvalidRequestError' }
}

/** The SQL could not be prepared or failed while running (syntax error, constraint, unknown column…). */
export class SqlError extends Error {
  static name = 'SqlError'
  /** SQLite's extended error code name (`SQLITE_CONSTRAINT_PRIMARYKEY`, …) when known. */
  code: string | undefined
  constructor (message = 'SQL error', options?: ErrorOptions & { code?: string }) { super(message, options); this.name = 'SqlError'; this.code = options?.code }
}

/** A write statement was sent where only reads are allowed (queries, subscriptions). */
export class StatementNotReadonlyError extends Error {
  static name = 'StatementNotReadonlyError'
  constructor (message = 'statement is not readonly', options?: ErrorOptions) { super(message, options); this.name = 'StatementNotReadonlyError' }
}

/** A table named in the request does not exist in the schema. */
export class UnknownTableError extends Error {
  static name = 'UnknownTableError'
  constructor (message = 'table not found', options?: ErrorOptions) { super(message, options); this.name = 'UnknownTableError' }
}

/** A table has no declared primary key where one is required (`/v1/updates/:table`). */
export class MissingPrimaryKeyError extends Error {
  static name = 'MissingPrimaryKeyError'
  constructor (message = 'table has no primary key', options?: ErrorOptions) { super(message, options); this.name = 'MissingPrimaryKeyError' }
}

/** The request lacks the configured bearer token or carries a different one. */
export class UnauthorizedError extends Error {
  static name = 'UnauthorizedError'
  constructor (message = 'unauthorized', options?: ErrorOptions) { super(message, options); this.name = 'UnauthorizedError' }
}

/** The request body is larger than the configured limit. */
export class BodyTooLargeError extends Error {
  static name = 'BodyTooLargeError'
  constructor (message = 'request body is too large', options?: ErrorOptions) { super(message, options); this.name = 'BodyTooLargeError' }
}

/** The route already handles its maximum number of concurrent requests (load shedding). */
export class OverloadedError extends Error {
  static name = 'OverloadedError'
  constructor (message = 'max concurrency limit reached', options?: ErrorOptions) { super(message, options); this.name = 'OverloadedError' }
}

/** No subscription has the requested id. */
export class SubscriptionNotFoundError extends Error {
  static name = 'SubscriptionNotFoundError'
  constructor (message = 'could not find subscription', options?: ErrorOptions) { super(message, options); this.name = 'SubscriptionNotFoundError' }
}

/** `from=` names a change id older than the retained window. */
export class ChangesPurgedError extends Error {
  static name = 'ChangesPurgedError'
  constructor (message = 'subscription already deleted older changes', options?: ErrorOptions) { super(message, options); this.name = 'ChangesPurgedError' }
}

/** A streaming client fell too far behind and was disconnected. */
export class SlowClientError extends Error {
  static name = 'SlowClientError'
  constructor (message = 'client too slow, too many events buffered', options?: ErrorOptions) { super(message, options); this.name = 'SlowClientError' }
}

/** The `?timeout=` of a request, or the default query timeout, expired. */
export class RequestTimeoutError extends Error {
  static name = 'RequestTimeoutError'
  constructor (message = 'request timed out', options?: ErrorOptions) { super(message, options); this.name = 'RequestTimeoutError' }
}

/** The server is not running or is shutting down. */
export class ServerClosedError extends Error {
  static name = 'ServerClosedError'
  constructor (message = 'server is closed', options?: ErrorOptions) { super(message, options); this.name = 'ServerClosedError' }
}

/** How one error name is reported: HTTP status and PostgreSQL SQLSTATE. */
export interface ErrorMapping {
  status: number
  sqlstate: string
}

/**
 * THE table from error names to HTTP status and SQLSTATE. Names not listed fall back to the
 * route's default (see {@link mapError}). Store implementations may throw their own names; add
 * them here when they deserve a specific status.
 */
export const errorStatus: Readonly<Record<string, ErrorMapping>> = {
  InvalidRequestError: { status: 400, sqlstate: '08P01' }, // protocol_violation
  SqlError: { status: 400, sqlstate: '42601' }, // syntax_error
  StatementNotReadonlyError: { status: 400, sqlstate: '25006' }, // read_only_sql_transaction
  UnknownTableError: { status: 400, sqlstate: '42P01' }, // undefined_table
  MissingPrimaryKeyError: { status: 400, sqlstate: '42P16' }, // invalid_table_definition
  UnauthorizedError: { status: 401, sqlstate: '28000' }, // invalid_authorization_specification
  SubscriptionNotFoundError: { status: 404, sqlstate: '42704' }, // undefined_object
  ChangesPurgedError: { status: 400, sqlstate: '55000' }, // object_not_in_prerequisite_state
  BodyTooLargeError: { status: 413, sqlstate: '54000' }, // program_limit_exceeded
  RequestTimeoutError: { status: 500, sqlstate: '57014' }, // query_canceled
  TimeoutError: { status: 500, sqlstate: '57014' },
  AbortError: { status: 500, sqlstate: '57014' },
  SlowClientError: { status: 500, sqlstate: '53000' }, // insufficient_resources
  OverloadedError: { status: 503, sqlstate: '53300' }, // too_many_connections
  ServerClosedError: { status: 503, sqlstate: '57P01' }, // admin_shutdown
  // Names a store may throw (the agent's crdt-store and other adapters).
  SqlSyntaxError: { status: 400, sqlstate: '42601' },
  InvalidStatementError: { status: 400, sqlstate: '42601' },
  NoSuchTableError: { status: 400, sqlstate: '42P01' },
  UnknownColumnError: { status: 400, sqlstate: '42703' },
  NoSuchColumnError: { status: 400, sqlstate: '42703' },
  UniqueViolationError: { status: 400, sqlstate: '23505' }, // unique_violation
  ConstraintViolationError: { status: 400, sqlstate: '23000' }, // integrity_constraint_violation
  ParameterError: { status: 400, sqlstate: '22P02' }, // invalid_text_representation
  SchemaError: { status: 400, sqlstate: '42P16' },
  SchemaChangeError: { status: 400, sqlstate: '42P16' },
  MalformedPkError: { status: 400, sqlstate: '22P02' },
  TransactionTooLargeError: { status: 413, sqlstate: '54000' },
  StoreClosedError: { status: 503, sqlstate: '57P01' },
  // The PostgreSQL endpoint's own errors (`src/pg/errors.ts`); their HTTP status is never used.
  PgProtocolError: { status: 400, sqlstate: '08P01' }, // protocol_violation
  PgAuthError: { status: 401, sqlstate: '28P01' }, // invalid_password
  PgUnsupportedError: { status: 400, sqlstate: '0A000' }, // feature_not_supported
  PgTransactionAbortedError: { status: 400, sqlstate: '25P02' }, // in_failed_sql_transaction
  PgParameterError: { status: 400, sqlstate: '22P02' },
  PgUnknownObjectError: { status: 404, sqlstate: '26000' }, // invalid_sql_statement_name
  PgDuplicateObjectError: { status: 409, sqlstate: '42P05' }, // duplicate_prepared_statement
  PgQueryCanceledError: { status: 500, sqlstate: '57014' } // query_canceled
}

/** The status and SQLSTATE for `err`, or the given defaults when its name is not in the table. */
export function mapError (err: unknown, fallback: ErrorMapping = { status: 500, sqlstate: 'XX000' }): ErrorMapping {
  const name = err instanceof Error ? err.name : undefined
  return (name != null ? errorStatus[name] : undefined) ?? fallback
}

/**
 * Texts Corrosion answers verbatim for some errors, whatever detail a store put in its own message:
 * clients match on these strings, and the store's detail (the SQL, how it found out) is for the log.
 */
const wireMessages: Readonly<Record<string, string>> = {
  StatementNotReadonlyError: 'statement is not readonly'
}

/** The message a client is sent for `err`: Corrosion's fixed text when its name has one, else its own message. */
export function wireMessage (err: unknown): string {
  const name = err instanceof Error ? err.name : undefined
  return (name != null ? wireMessages[name] : undefined) ?? errorMessage(err)
}

/** The message of any thrown value. */
export function errorMessage (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}

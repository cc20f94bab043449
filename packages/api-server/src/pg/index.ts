/** The PostgreSQL wire endpoint: protocol v3 over an `ApiStore` (see `docs/pg.md`). */
export { createPgServer } from './pg-server.ts'
export type { PgServer, PgServerInit, PgAuthInit, PgTlsInit, PgLogger, PgAddress } from './pg-server.ts'
export {
  PgProtocolError, PgAuthError, PgUnsupportedError, PgTransactionAbortedError, PgParameterError, PgUnknownObjectError, PgDuplicateObjectError,
  PgConfigError, PgServerStateError, PgQueryCanceledError, PgReadOnlyError,
  sqlStateOf
} from './errors.ts'
export type { SqlStateErrorOptions } from './errors.ts'

/**
 * @packageDocumentation
 * Corrosion-compatible HTTP API, live SQL subscriptions and a PostgreSQL wire endpoint in front of
 * any store implementing the {@link ApiStore} port. See the README for a runnable example.
 */
export { createApiServer, parseAddr } from './api-server.ts'
export type { ApiServer, ApiServerInit } from './api-server.ts'
export * from './errors.ts'
export { parseJson, parseStatement, parseStatements, encodeValue, encodeRow, stringifyJson, paramValue } from './statement.ts'
export { packPk, unpackPk } from './pk.ts'
export { findQueryTables } from './subs/query-tables.ts'
export { diffRows, cellsKey } from './subs/row-diff.ts'
export type { SubRow, RowDiffChange, RowDiffResult, KeyCandidate } from './subs/row-diff.ts'
export { createSubscriptionManager, statementKey } from './subs/subscription-manager.ts'
export type { SubscriptionManager, SubscriptionManagerInit } from './subs/subscription-manager.ts'
export { Subscription, defaultQueryLimits } from './subs/subscription.ts'
export type { StreamListener, AttachOptions, QueryLimits } from './subs/subscription.ts'
export type { ApiLogger } from './logger.ts'
export type * from './ports.ts'
export * from './pg/index.ts'

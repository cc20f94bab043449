/** What the route handlers share. */
import { errorMessage, mapError, wireMessage } from '../errors.ts'
import { stringifyJson } from '../statement.ts'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { ApiCluster, ApiStore } from '../ports.ts'
import type { SubscriptionManager } from '../subs/subscription-manager.ts'
import type { UpdateHub } from '../subs/update-hub.ts'
import type { ApiLogger } from '../logger.ts'

/** Shared state of one server's routes. */
export interface RouteContext {
  store: ApiStore
  cluster: ApiCluster | undefined
  subs: SubscriptionManager
  updates: UpdateHub
  actorId: string
  /** Default `/v1/queries` timeout in seconds (0 = none). */
  queryTimeout: number
  maxBufferedBytes: number
  logger: ApiLogger | undefined
  /** A streaming route took its response over (`reply.hijack()`): frees its concurrency slot. */
  streamStarted?: (req: FastifyRequest) => void
}

/**
 * Sends `{"error": message}` with the status the error table gives (or `fallback`). The message is
 * the wire text (see `wireMessage`); when that hides the error's own message, the latter goes to
 * `logger` at debug level so the detail is not lost.
 */
export function sendError (reply: FastifyReply, err: unknown, fallback: number, logger?: ApiLogger): FastifyReply {
  const { status } = mapError(err, { status: fallback, sqlstate: 'XX000' })
  const message = wireMessage(err)
  if (logger != null && message !== errorMessage(err)) logger.debug({ err, route: reply.request.routeOptions.url }, message)
  return reply.code(status).header('content-type', 'application/json').send(stringifyJson({ error: message }))
}

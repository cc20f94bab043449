/**
 * `createApiServer`: the Corrosion-compatible HTTP API over an `ApiStore`, on Fastify. Owns the
 * listener, auth, load shedding, body parsing, the subscription manager and the updates hub.
 */
import { InvalidRequestError, ServerClosedError } from './errors.ts'
import { createConcurrencyLimiter } from './http/concurrency.ts'
import { createHttpApp } from './http/app.ts'
import { createSubscriptionManager } from './subs/subscription-manager.ts'
import { createUpdateHub } from './subs/update-hub.ts'
import { openSubStorage } from './subs/sub-storage.ts'
import type { FastifyInstance } from 'fastify'
import type { AbortOptions, ApiCluster, ApiStore } from './ports.ts'
import type { ApiLogger } from './logger.ts'
import type { SubscriptionManager } from './subs/subscription-manager.ts'
import type { SubStorage } from './subs/sub-storage.ts'
import type { RouteContext } from './http/context.ts'

/** Options of {@link createApiServer}. */
export interface ApiServerInit {
  store: ApiStore
  /** Membership and health figures; absent for a single node. */
  cluster?: ApiCluster
  /**
   * `host:port` (default `127.0.0.1:8080`; port 0 picks a free port), or several: one listener
   * each, all serving the same store and subscriptions.
   */
  addr?: string | readonly string[]
  /** This node's actor id (32 hex chars), reported as `actor_id`. */
  actorId?: string
  /** When set, every route requires `Authorization: Bearer <token>`. */
  bearerToken?: string
  /**
   * `api.endpoint_name`: a request whose `x-corrosion-requested-endpoint-name` header names another
   * endpoint gets 421 (a missing header is accepted).
   */
  endpointName?: string
  /** Maximum request body in bytes (default 16 MiB); larger gets 413. */
  bodyLimit?: number
  /** In-flight request limits: `default` for data routes (128), `light` for health/table_stats (4). */
  concurrency?: { default?: number, light?: number }
  /** Default `/v1/queries` timeout in seconds when `?timeout=` is absent (60; 0 = none). */
  queryTimeout?: number
  /** Directory for subscription persistence; absent keeps subscriptions in memory only. */
  dataDir?: string
  /** Subscription tuning. */
  subscriptions?: {
    batchDelayMs?: number
    retainChanges?: number
    idleTimeoutMs?: number
    maxBufferedBytes?: number
    /** Most rows one subscription may hold (default 200 000). */
    maxRows?: number
    /** Longest one evaluation may take, in ms (default 10 000). */
    queryTimeoutMs?: number
  }
  logger?: ApiLogger
  /** Called after every response (metrics). */
  onRequest?: (info: { route: string, method: string, status: number, durationMs: number }) => void
}

/** A running (or startable) API server. */
export interface ApiServer {
  /** Starts listening; resolves with the bound address. */
  start(options?: AbortOptions): Promise<{ host: string, port: number }>
  /** Ends every stream, closes the listener and persisted state. */
  stop(options?: AbortOptions): Promise<void>
  /** The first bound address while listening. */
  readonly address: { host: string, port: number } | null
  /** Every bound address while listening, in `addr` order. */
  readonly addresses: Array<{ host: string, port: number }>
  /** The live subscriptions. */
  readonly subscriptions: SubscriptionManager
  /** The (first) underlying Fastify instance (for `inject` in tests). */
  readonly fastify: FastifyInstance
}

const LIGHT_ROUTES = new Set(['/v1/table_stats', '/v1/health'])

/** Splits `host:port` / `[v6]:port`. */
export function parseAddr (addr: string): { host: string, port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr)
  if (m == null) throw new InvalidRequestError(`invalid listen address "${addr}" (expected host:port)`)
  const port = Number(m[2])
  if (port > 65535) throw new InvalidRequestError(`invalid port in "${addr}"`)
  return { host: m[1] as string, port }
}

/** Creates the server (not yet listening). */
export function createApiServer (init: ApiServerInit): ApiServer {
  const addrs = init.addr == null ? ['127.0.0.1:8080'] : typeof init.addr === 'string' ? [init.addr] : [...init.addr]
  if (addrs.length === 0) throw new InvalidRequestError('at least one listen address is required')
  const listens = addrs.map(parseAddr)
  const logger = init.logger
  const storage: SubStorage | undefined = init.dataDir != null ? openSubStorage(init.dataDir) : undefined
  const subs = createSubscriptionManager({
    store: init.store,
    storage,
    logger,
    ...(init.subscriptions?.batchDelayMs != null ? { batchDelayMs: init.subscriptions.batchDelayMs } : {}),
    ...(init.subscriptions?.retainChanges != null ? { retainChanges: init.subscriptions.retainChanges } : {}),
    ...(init.subscriptions?.idleTimeoutMs != null ? { idleTimeoutMs: init.subscriptions.idleTimeoutMs } : {}),
    limits: {
      maxRows: init.subscriptions?.maxRows ?? 200_000,
      timeoutMs: init.subscriptions?.queryTimeoutMs ?? 10_000
    }
  })
  const updates = createUpdateHub(init.store)
  const ctx: RouteContext = {
    store: init.store,
    cluster: init.cluster,
    subs,
    updates,
    actorId: init.actorId ?? '0'.repeat(32),
    queryTimeout: init.queryTimeout ?? 60,
    maxBufferedBytes: init.subscriptions?.maxBufferedBytes ?? 8 * 1024 * 1024,
    logger
  }
  const limits = createConcurrencyLimiter(route => LIGHT_ROUTES.has(route)
    ? init.concurrency?.light ?? 4
    : init.concurrency?.default ?? 128)
  // One Fastify instance per listen address; all share the store, subscriptions and limits.
  const apps = listens.map(() => createHttpApp(init, ctx, limits))

  let addresses: Array<{ host: string, port: number }> = []
  let sweep: ReturnType<typeof setInterval> | null = null
  let state: 'new' | 'running' | 'stopped' = 'new'

  return {
    get address () { return addresses[0] ?? null },
    get addresses () { return [...addresses] },
    subscriptions: subs,
    fastify: apps[0] as FastifyInstance,
    async start (options) {
      options?.signal?.throwIfAborted()
      if (state !== 'new') throw new ServerClosedError(state === 'running' ? 'server already started' : 'server was stopped')
      subs.start()
      updates.start()
      const idle = init.subscriptions?.idleTimeoutMs ?? 10 * 60_000
      sweep = setInterval(() => { subs.sweepIdle() }, Math.max(100, Math.min(60_000, idle / 2)))
      sweep.unref()
      state = 'running'
      for (const [i, app] of apps.entries()) {
        const listen = listens[i] as { host: string, port: number }
        await app.listen({ host: listen.host, port: listen.port, ...(options?.signal != null ? { signal: options.signal } : {}) })
        const a = app.server.address()
        if (a == null || typeof a === 'string') throw new ServerClosedError('server did not bind a TCP address')
        addresses.push({ host: a.address, port: a.port })
      }
      return addresses[0] as { host: string, port: number }
    },
    async stop (options) {
      options?.signal?.throwIfAborted()
      if (state === 'stopped') return
      state = 'stopped'
      if (sweep != null) clearInterval(sweep)
      subs.stop()
      updates.stop()
      await Promise.all(apps.map(async app => { await app.close() }))
      storage?.close()
      addresses = []
    }
  }
}

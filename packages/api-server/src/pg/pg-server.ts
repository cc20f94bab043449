import { randomBytes } from 'node:crypto'
import { createServer } from 'node:net'
import { createSecureContext } from 'node:tls'
import { createCatalog } from './catalog.ts'
import { PgConfigError, PgServerStateError } from './errors.ts'
import { serveConnection } from './pg-connection.ts'
import { scramCredentials } from './scram.ts'
import { errorResponse } from './wire/backend-messages.ts'
import { MessageWriter } from './wire/message-writer.ts'
import type { ConnectionContext } from './pg-connection.ts'
import type { PgLogger } from './pg-logger.ts'
import type { ApiStore } from '../ports.ts'
import type { Server, Socket } from 'node:net'

export type { PgLogger }

/** Password authentication. Without it the endpoint trusts every client (like Corrosion). */
export interface PgAuthInit {
  /** When set, only this user name may connect. */
  user?: string
  password: string
  /** `scram-sha-256` (default) or cleartext `password`. */
  method?: 'scram-sha-256' | 'password'
}

/** TLS material (PEM). With it, SSLRequest is answered `S` and the connection upgraded. */
export interface PgTlsInit {
  key: string | Buffer
  cert: string | Buffer
}

/** Options of {@link createPgServer}. */
export interface PgServerInit {
  store: ApiStore
  /** `host:port` to listen on; port 0 picks a free one. Default `127.0.0.1:5432`. */
  addr?: string
  auth?: PgAuthInit
  tls?: PgTlsInit
  /**
   * A read-only listener (Corrosion's `readonly = true`): reads work; every write, COPY FROM, and
   * write inside a block is refused with SQLSTATE 25006. Default false.
   */
  readonly?: boolean
  logger?: PgLogger
  /** Largest accepted frontend message in bytes (default 64 MiB). */
  maxMessageSize?: number
  /** Milliseconds a client has to complete startup and authentication (default 30 000). */
  startupTimeoutMs?: number
  /** Open connections beyond this are refused with SQLSTATE 53300 (default 1000). */
  maxConnections?: number
  /** Largest `COPY … FROM STDIN` payload, buffered until CopyDone (default 64 MiB). */
  maxCopyBytes?: number
}

/** Where the server listens. */
export interface PgAddress {
  host: string
  port: number
}

/** The PostgreSQL wire endpoint. */
export interface PgServer {
  /** Starts listening; resolves with the bound address. */
  start(options?: { signal?: AbortSignal }): Promise<PgAddress>
  /** Stops listening and closes every connection. */
  stop(options?: { signal?: AbortSignal }): Promise<void>
  /** Number of open client connections. */
  readonly connections: number
}

/** Splits `host:port` / `[v6]:port`. */
function parseAddr (addr: string): PgAddress {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr)
  if (m === null) throw new PgConfigError(`invalid pg address ${JSON.stringify(addr)}: expected host:port`)
  const port = Number(m[2])
  if (port > 65535) throw new PgConfigError(`invalid port in pg address ${JSON.stringify(addr)}`)
  return { host: m[1] as string, port }
}

/** Creates the PostgreSQL wire endpoint over a store. */
export function createPgServer (init: PgServerInit): PgServer {
  const { host, port } = parseAddr(init.addr ?? '127.0.0.1:5432')
  const serverVersion = '14.0'
  const newCatalog = (): ConnectionContext['catalog'] => createCatalog({ schema: () => init.store.schema(), serverVersion })
  const ctx: ConnectionContext = {
    store: init.store,
    catalog: newCatalog(),
    serverVersion,
    logger: init.logger ?? {},
    maxMessageSize: init.maxMessageSize ?? 64 * 1024 * 1024,
    startupTimeoutMs: init.startupTimeoutMs ?? 30_000,
    maxCopyBytes: init.maxCopyBytes ?? 64 * 1024 * 1024,
    pid: process.pid,
    cancelTargets: new Map(),
    ...(init.readonly === true ? { readonly: true } : {})
  }
  if (init.auth !== undefined) {
    const a = init.auth
    ctx.auth = {
      method: a.method ?? 'scram-sha-256',
      password: a.password,
      scram: scramCredentials(a.password, randomBytes(16), 4096),
      ...(a.user !== undefined ? { user: a.user } : {})
    }
  }
  if (init.tls !== undefined) {
    try {
      ctx.tls = createSecureContext({ key: init.tls.key, cert: init.tls.cert })
    } catch (err) {
      throw new PgConfigError(`invalid pg TLS key or certificate: ${(err as Error).message}`, { cause: err })
    }
  }

  const open = new Map<Socket, { close(): void, closed: Promise<void> }>()
  const refused = new Set<Socket>()
  let server: Server | null = null
  let catalogClosed = false

  const maxConnections = init.maxConnections ?? 1000
  const onConnection = (socket: Socket): void => {
    if (open.size >= maxConnections) {
      // Answer in the startup phase's own terms: a FATAL ErrorResponse, then close.
      const w = new MessageWriter()
      errorResponse(w, { severity: 'FATAL', code: '53300', message: 'sorry, too many clients already' })
      socket.on('error', () => {})
      socket.end(w.take())
      // The client may never hang up; do not let it hold a socket (or stop()) open.
      refused.add(socket)
      socket.once('close', () => refused.delete(socket))
      setTimeout(() => socket.destroy(), 1000).unref()
      return
    }
    try {
      const conn = serveConnection(socket, ctx)
      open.set(socket, conn)
      void conn.closed.then(() => open.delete(socket))
    } catch (err) {
      ctx.logger.error?.({ err }, 'pg connection setup failed')
      socket.destroy()
    }
  }

  return {
    get connections () { return open.size },
    async start (options) {
      options?.signal?.throwIfAborted()
      if (server !== null) throw new PgServerStateError()
      if (catalogClosed) { ctx.catalog = newCatalog(); catalogClosed = false }
      const s = createServer(onConnection)
      s.on('error', (err) => ctx.logger.error?.({ err }, 'pg server error'))
      await new Promise<void>((resolve, reject) => {
        const onError = (err: Error): void => { reject(err) }
        s.once('error', onError)
        s.listen(port, host, () => { s.off('error', onError); resolve() })
      })
      server = s
      const a = s.address()
      const bound = typeof a === 'object' && a !== null ? { host: a.address, port: a.port } : { host, port }
      ctx.logger.info?.({ addr: `${bound.host}:${bound.port}` }, 'pg endpoint listening')
      return bound
    },
    async stop (options) {
      options?.signal?.throwIfAborted()
      const s = server
      server = null
      for (const conn of open.values()) conn.close()
      open.clear()
      for (const socket of refused) socket.destroy()
      refused.clear()
      if (s !== null) await new Promise<void>((resolve) => s.close(() => resolve()))
      if (!catalogClosed) { ctx.catalog.close(); catalogClosed = true }
    }
  }
}

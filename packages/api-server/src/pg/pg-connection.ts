import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { TLSSocket } from 'node:tls'
import { PgAuthError, PgProtocolError, PgQueryCanceledError, PgUnsupportedError, sqlStateOf } from './errors.ts'
import { queryEngine } from './query-engine.ts'
import { scramServer } from './scram.ts'
import { REPORTED_PARAMETERS, defaultSettings } from './session-settings.ts'
import { frameDecoder } from './wire/frame-decoder.ts'
import * as msg from './wire/backend-messages.ts'
import { decodeBind, decodeExecute, decodeParse, decodePassword, decodeQuery, decodeSaslInitial, decodeStartup, decodeTarget } from './wire/frontend-messages.ts'
import { MessageWriter } from './wire/message-writer.ts'
import type { Catalog } from './catalog.ts'
import type { PgLogger } from './pg-logger.ts'
import type { QueryEngine, EngineOutput } from './query-engine.ts'
import type { ScramCredentials, ScramServer } from './scram.ts'
import type { Frame } from './wire/frame-decoder.ts'
import type { ApiStore } from '../ports.ts'
import type { Socket } from 'node:net'
import type { SecureContext } from 'node:tls'

/** Server-wide settings every connection shares. */
export interface ConnectionContext {
  store: ApiStore
  catalog: Catalog
  serverVersion: string
  auth?: { user?: string, method: 'scram-sha-256' | 'password', password: string, scram: ScramCredentials }
  tls?: SecureContext
  /** Refuse every write with SQLSTATE 25006 (`readonly` listener). */
  readonly?: boolean
  logger: PgLogger
  maxMessageSize: number
  maxCopyBytes: number
  /** Milliseconds a client has to finish startup and authentication. */
  startupTimeoutMs: number
  pid: number
  /** Connections by their BackendKeyData secret, for CancelRequest. */
  cancelTargets: Map<number, () => void>
}

type Phase = 'startup' | 'password' | 'sasl-initial' | 'sasl-final' | 'ready' | 'closed'

const ch = (c: string): number => c.charCodeAt(0)

/**
 * Serves one client socket: startup, SSL negotiation, authentication, then the query protocol.
 * Frames are handled strictly in order; a protocol violation ends this connection only.
 */
export function serveConnection (raw: Socket, ctx: ConnectionContext): { close(): void, closed: Promise<void> } {
  let socket: Socket = raw
  const decoder = frameDecoder({ maxMessageSize: ctx.maxMessageSize })
  const w = new MessageWriter()
  let phase: Phase = 'startup'
  let engine: QueryEngine | null = null
  let scram: ScramServer | null = null
  let user = ''
  let busy = false
  const abort = new AbortController()
  // The operation in progress (Query or Execute), which a CancelRequest aborts.
  let op: AbortController | null = null
  const secret = randomBytes(4).readInt32BE(0)
  const opSignal = (): AbortSignal => {
    op = new AbortController()
    return AbortSignal.any([abort.signal, op.signal])
  }
  const remote = `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? '?'}`
  let resolveClosed: () => void = () => {}
  const closed = new Promise<void>((resolve) => { resolveClosed = resolve })

  let sinceYield = 0
  const flush = async (): Promise<void> => {
    if (w.length > 0 && !socket.destroyed) {
      sinceYield += w.length
      socket.write(w.take())
    }
    // A long result to a fast reader must not starve other connections (and CancelRequests).
    if (sinceYield >= 1024 * 1024) {
      sinceYield = 0
      await new Promise<void>((resolve) => setImmediate(resolve))
    }
    if (socket.writableNeedDrain && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        const done = (): void => { socket.off('drain', done); socket.off('close', done); resolve() }
        socket.on('drain', done)
        socket.on('close', done)
      })
    }
  }
  const out: EngineOutput = { w, flush }

  const shutdown = (): void => {
    if (phase === 'closed') return
    phase = 'closed'
    abort.abort()
    ctx.cancelTargets.delete(secret)
    engine?.end()
    clearTimeout(startupTimer)
    if (!socket.destroyed) socket.end()
    // Give the peer a moment to read the last error, then make sure the socket is gone.
    setTimeout(() => socket.destroy(), 1000).unref()
    resolveClosed()
  }

  const fatal = (err: unknown): void => {
    const code = sqlStateOf(err)
    if (code === '08P01') ctx.logger.warn?.({ err, remote, code }, 'pg protocol violation; connection closed')
    else ctx.logger.debug?.({ err, remote, code }, 'pg connection closed on error')
    msg.errorResponse(w, { severity: 'FATAL', code, message: (err as Error)?.message ?? String(err) })
    void flush()
    shutdown()
  }

  const startupTimer = setTimeout(() => {
    if (phase !== 'ready' && phase !== 'closed') fatal(new PgProtocolError('canceling authentication due to timeout', { sqlState: '08006' }))
  }, ctx.startupTimeoutMs)
  startupTimer.unref()

  const authenticated = (): void => {
    msg.authenticationOk(w)
    const settings = engineSettings
    for (const name of REPORTED_PARAMETERS) {
      const v = settings.get(name.toLowerCase())
      if (v !== undefined) msg.parameterStatus(w, name, v)
    }
    msg.backendKeyData(w, ctx.pid, secret)
    ctx.cancelTargets.set(secret, () => { op?.abort(new PgQueryCanceledError()) })
    engine = queryEngine({ store: ctx.store, catalog: ctx.catalog, session: { user, database, pid: ctx.pid, settings }, logger: ctx.logger, maxCopyBytes: ctx.maxCopyBytes, readonly: ctx.readonly === true })
    phase = 'ready'
    clearTimeout(startupTimer)
    msg.readyForQuery(w, 'I')
  }

  let engineSettings = new Map<string, string>()
  let database = ''

  const checkUser = (): void => {
    if (ctx.auth?.user !== undefined && ctx.auth.user !== user) throw new PgAuthError(`password authentication failed for user "${user}"`)
  }

  const upgradeTls = (): void => {
    if (decoder.buffered > 0) throw new PgProtocolError('received unencrypted data after SSL request')
    socket.removeListener('data', onData)
    const secure = new TLSSocket(socket, { isServer: true, secureContext: ctx.tls as SecureContext })
    secure.on('error', onError)
    secure.on('close', shutdown)
    socket = secure
    secure.on('data', onData)
  }

  const handleStartup = (frame: Frame): void => {
    const packet = decodeStartup(frame.body)
    switch (packet.kind) {
      case 'ssl':
        if (ctx.tls !== undefined && !(socket instanceof TLSSocket)) {
          socket.write('S')
          upgradeTls()
        } else {
          socket.write('N')
        }
        return
      case 'gssenc':
        socket.write('N')
        return
      case 'cancel':
        // Cancels the target's running statement (if any); this connection just closes, as in PostgreSQL.
        if (packet.pid === ctx.pid) ctx.cancelTargets.get(packet.secret)?.()
        shutdown()
        return
      case 'startup': {
        user = packet.params.user ?? ''
        database = packet.params.database ?? user
        engineSettings = defaultSettings({ serverVersion: ctx.serverVersion, user, database, startup: packet.params })
        if (ctx.readonly === true) { engineSettings.set('transaction_read_only', 'on'); engineSettings.set('default_transaction_read_only', 'on') }
        if (ctx.auth === undefined) { authenticated(); return }
        if (ctx.auth.method === 'password') {
          msg.authenticationCleartext(w)
          phase = 'password'
        } else {
          msg.authenticationSasl(w, ['SCRAM-SHA-256'])
          phase = 'sasl-initial'
        }
      }
    }
  }

  const handleAuth = (frame: Frame): void => {
    if (frame.type !== ch('p')) throw new PgProtocolError(`expected a password message, got '${String.fromCharCode(frame.type)}'`)
    const auth = ctx.auth
    if (auth === undefined) throw new PgProtocolError('unexpected password message')
    if (phase === 'password') {
      const password = decodePassword(frame.body)
      checkUser()
      // Compare digests so the time taken says nothing about the password.
      const digest = (v: string): Buffer => createHash('sha256').update(v).digest()
      if (!timingSafeEqual(digest(password), digest(auth.password))) throw new PgAuthError(`password authentication failed for user "${user}"`)
      authenticated()
      return
    }
    if (phase === 'sasl-initial') {
      const { mechanism, data } = decodeSaslInitial(frame.body)
      if (mechanism !== 'SCRAM-SHA-256') throw new PgAuthError(`SASL mechanism ${JSON.stringify(mechanism)} is not supported`)
      scram = scramServer({ credentials: auth.scram, serverNonce: randomBytes(18).toString('base64') })
      msg.authenticationSaslContinue(w, scram.first(data))
      phase = 'sasl-final'
      return
    }
    if (phase === 'sasl-final' && scram !== null) {
      let final: string
      try {
        final = scram.final(frame.body.toString('utf8'))
      } catch (err) {
        throw new PgAuthError(`password authentication failed for user "${user}"`, { cause: err })
      }
      checkUser()
      msg.authenticationSaslFinal(w, final)
      authenticated()
    }
  }

  const handleQuery = async (frame: Frame, e: QueryEngine): Promise<void> => {
    const type = String.fromCharCode(frame.type)
    if (type === 'X') { shutdown(); return }
    if (e.inCopy) {
      // COPY FROM STDIN sub-protocol: data, then CopyDone or CopyFail; Flush and Sync are ignored.
      if (type === 'd') { e.copyData(frame.body); return }
      if (type === 'c') {
        try {
          await e.copyDone(out, { signal: opSignal() })
        } finally {
          op = null
        }
        return
      }
      if (type === 'f') { e.copyFail(decodeQuery(frame.body), out); return }
      if (type === 'H' || type === 'S') return
      e.copyFail(`unexpected message type '${type}' during COPY from stdin`, out)
    }
    // After an extended-protocol error everything up to the next Sync is discarded.
    if (e.skippingToSync && type !== 'S') return
    if (type === 'Q') {
      const sql = decodeQuery(frame.body)
      try {
        await e.simpleQuery(sql, out, { signal: opSignal() })
      } finally {
        op = null
      }
      return
    }
    if (type === 'S') { e.sync(out); return }
    if (type === 'H') { await flush(); return }
    // Decoding errors are protocol violations (fatal); errors of the statement are not.
    let act: () => void | Promise<void>
    switch (type) {
      case 'P': { const m = decodeParse(frame.body); act = () => { e.parse(m, out) }; break }
      case 'B': { const m = decodeBind(frame.body); act = () => { e.bind(m, out) }; break }
      case 'D': { const t = decodeTarget(frame.body); act = () => { e.describe(t.kind, t.name, out) }; break }
      case 'E': {
        const x = decodeExecute(frame.body)
        act = async () => {
          try {
            await e.execute(x.portal, x.maxRows, out, { signal: opSignal() })
          } finally {
            op = null
          }
        }
        break
      }
      case 'C': { const t = decodeTarget(frame.body); act = () => { e.close(t.kind, t.name, out) }; break }
      case 'F': act = () => { throw new PgUnsupportedError('the function call protocol is not supported') }; break
      case 'd': case 'c': case 'f': return // COPY messages outside COPY are ignored, as PostgreSQL does
      default: throw new PgProtocolError(`invalid frontend message type ${frame.type}`)
    }
    try {
      await act()
    } catch (err) {
      e.fail(err, out)
    }
  }

  const handle = async (frame: Frame): Promise<void> => {
    if (phase === 'startup') { handleStartup(frame); return }
    if (phase === 'ready' && engine !== null) { await handleQuery(frame, engine); return }
    handleAuth(frame)
  }

  let dirty = false
  const pump = async (): Promise<void> => {
    if (busy) { dirty = true; return }
    busy = true
    try {
      do {
        dirty = false
        while (phase !== 'closed') {
          const frame = decoder.next(phase === 'startup')
          if (frame === null) break
          await handle(frame)
          if (w.length >= 64 * 1024) await flush()
        }
        await flush()
        // Bytes that arrived while awaiting get another turn.
      } while (dirty && phase !== 'closed')
    } catch (err) {
      fatal(err)
    } finally {
      busy = false
      if (socket.isPaused() && phase !== 'closed') socket.resume()
    }
  }

  // Stop reading while a large backlog waits, so a fast sender cannot grow memory without bound.
  const MAX_BACKLOG = 4 * 1024 * 1024
  function onData (chunk: Buffer): void {
    if (phase === 'closed') return
    decoder.push(chunk)
    if (busy && decoder.buffered > MAX_BACKLOG + ctx.maxMessageSize) socket.pause()
    void pump()
  }

  function onError (err: Error): void {
    ctx.logger.debug?.({ err, remote }, 'pg socket error')
    shutdown()
  }

  raw.setNoDelay(true)
  raw.setKeepAlive(true, 10_000)
  raw.on('data', onData)
  raw.on('error', onError)
  raw.on('close', shutdown)

  return {
    close () {
      shutdown()
      socket.destroy()
    },
    closed
  }
}

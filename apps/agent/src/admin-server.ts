import { createServer, createConnection, type Server, type Socket } from 'node:net'
import { mkdirSync, rmSync, existsSync, chmodSync } from 'node:fs'
import { dirname } from 'node:path'
import { encodeFrame, FrameDecoder } from './admin-frame.ts'
import { AdminProtocolError } from './errors.ts'
import type { Logger } from 'pino'

/**
 * An admin command: a string (`"Ping"`) or a one-key object (`{"Cluster":"Members"}`), as Corrosion's
 * externally tagged commands.
 */
export type AdminCommand = string | Record<string, unknown>

/** Handles one command: returns the JSON values to send (zero or more) before `"Success"`. */
export type AdminHandler = (command: AdminCommand, options: { signal: AbortSignal }) => Promise<unknown[]> | unknown[]

/** Admin server options. */
export interface AdminServerInit {
  path: string
  handler: AdminHandler
  logger?: Logger
}

/** A listening admin socket. */
export interface AdminServer {
  readonly path: string
  start(options?: { signal?: AbortSignal }): Promise<void>
  stop(options?: { signal?: AbortSignal }): Promise<void>
}

/** Creates the unix-socket admin server (4-byte length + JSON frames). */
export function createAdminServer (init: AdminServerInit): AdminServer {
  let server: Server | undefined
  const sockets = new Set<Socket>()
  const abort = new AbortController()
  const serve = (socket: Socket): void => {
    sockets.add(socket)
    socket.on('close', () => { sockets.delete(socket) })
    socket.on('error', () => { /* the client went away */ })
    const decoder = new FrameDecoder()
    let chain = Promise.resolve()
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[]
      try {
        frames = decoder.push(chunk)
      } catch (err) {
        socket.end(encodeFrame({ Error: { msg: (err as Error).message } }))
        return
      }
      for (const frame of frames) {
        chain = chain.then(async () => {
          try {
            if (typeof frame !== 'string' && (frame === null || typeof frame !== 'object' || Array.isArray(frame))) {
              throw new AdminProtocolError('admin command must be a string or an object with one key')
            }
            const values = await init.handler(frame as AdminCommand, { signal: abort.signal })
            for (const v of values) socket.write(encodeFrame({ Json: v }))
            socket.write(encodeFrame('Success'))
          } catch (err) {
            init.logger?.warn({ err: (err as Error).message, command: frame }, 'admin command failed')
            if (!socket.destroyed) socket.write(encodeFrame({ Error: { msg: (err as Error).message } }))
          }
        })
      }
    })
  }
  return {
    path: init.path,
    async start (options) {
      options?.signal?.throwIfAborted()
      mkdirSync(dirname(init.path), { recursive: true })
      if (existsSync(init.path)) {
        // A live socket means another node owns this path; a stale one is left by a crash.
        if (await socketAnswers(init.path)) throw new AdminProtocolError(`admin socket ${init.path} is in use by a running node`)
        rmSync(init.path, { force: true })
      }
      const srv = createServer(serve)
      server = srv
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject)
        srv.listen(init.path, () => { srv.off('error', reject); resolve() })
      })
      // Admin commands can back up, reload and partition the node: owner only.
      chmodSync(init.path, 0o600)
    },
    async stop () {
      abort.abort()
      const srv = server
      server = undefined
      if (srv === undefined) return
      for (const s of sockets) s.destroy()
      await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
      rmSync(init.path, { force: true })
    }
  }
}

/** True when something accepts connections on the unix socket `path`. */
export async function socketAnswers (path: string, timeoutMs = 1000): Promise<boolean> {
  return await new Promise<boolean>(resolve => {
    const s = createConnection(path)
    const timer = setTimeout(() => { s.destroy(); resolve(false) }, timeoutMs)
    s.once('connect', () => { clearTimeout(timer); s.destroy(); resolve(true) })
    s.once('error', () => { clearTimeout(timer); resolve(false) })
  })
}

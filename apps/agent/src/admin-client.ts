import { createConnection } from 'node:net'
import { encodeFrame, FrameDecoder } from './admin-frame.ts'
import { AdminCommandError, AdminUnavailableError, AdminProtocolError } from './errors.ts'
import type { AdminCommand } from './admin-server.ts'

/**
 * Sends one command to a node's admin socket and resolves with the `Json` values it answered.
 * Throws AdminUnavailableError when nothing listens, AdminCommandError when the node reports an error.
 */
export async function adminRequest (path: string, command: AdminCommand, options?: { signal?: AbortSignal; timeoutMs?: number; onLog?: (log: unknown) => void }): Promise<unknown[]> {
  options?.signal?.throwIfAborted()
  return await new Promise<unknown[]>((resolve, reject) => {
    const socket = createConnection(path)
    const values: unknown[] = []
    const decoder = new FrameDecoder()
    let done = false
    const finish = (err: Error | null): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      options?.signal?.removeEventListener('abort', onAbort)
      socket.destroy()
      if (err !== null) reject(err); else resolve(values)
    }
    const onAbort = (): void => { finish(options?.signal?.reason as Error ?? new Error('aborted')) }
    options?.signal?.addEventListener('abort', onAbort, { once: true })
    const timer = setTimeout(() => { finish(new AdminUnavailableError(`admin socket ${path} did not answer in time`)) }, options?.timeoutMs ?? 120_000)
    socket.once('connect', () => { socket.write(encodeFrame(command)) })
    socket.on('error', (err: NodeJS.ErrnoException) => {
      finish(new AdminUnavailableError(`cannot reach the node's admin socket at ${path} (${err.code ?? err.message}); is the node running?`, { cause: err }))
    })
    socket.on('close', () => { finish(new AdminProtocolError('admin socket closed before the command completed')) })
    socket.on('data', (chunk: Buffer) => {
      let frames: unknown[]
      try { frames = decoder.push(chunk) } catch (err) { finish(err as Error); return }
      for (const f of frames) {
        if (f === 'Success') { finish(null); return }
        if (f !== null && typeof f === 'object') {
          const o = f as Record<string, unknown>
          if ('Json' in o) values.push(o.Json)
          else if ('Log' in o) options?.onLog?.(o.Log)
          else if ('Error' in o) {
            const msg = (o.Error as { msg?: unknown } | null)?.msg
            finish(new AdminCommandError(typeof msg === 'string' ? msg : JSON.stringify(o.Error)))
            return
          }
        }
      }
    })
  })
}

import { createConnection } from 'node:net'

/** The node answered with an error, or the socket failed. */
export class HarnessAdminError extends Error {
  static name = 'HarnessAdminError'
  constructor (message = 'admin request failed', options?: ErrorOptions) {
    super(message, options)
    this.name = 'HarnessAdminError'
  }
}

/**
 * One request on a node's admin socket (4-byte big-endian length + JSON frames; `{"Json":v}` values
 * then `"Success"` or `{"Error":{"msg"}}`). Kept separate from the agent so the harness loads nothing
 * heavy.
 */
export async function admin (path: string, command: unknown, timeoutMs = 30_000): Promise<unknown[]> {
  return await new Promise<unknown[]>((resolve, reject) => {
    const socket = createConnection(path)
    const values: unknown[] = []
    let buf = Buffer.alloc(0)
    let done = false
    const finish = (err: Error | null): void => {
      if (done) return
      done = true
      clearTimeout(timer)
      socket.destroy()
      if (err !== null) reject(err); else resolve(values)
    }
    const timer = setTimeout(() => { finish(new HarnessAdminError(`admin ${path}: no answer in ${timeoutMs} ms`)) }, timeoutMs)
    socket.on('connect', () => {
      const body = Buffer.from(JSON.stringify(command))
      const head = Buffer.alloc(4)
      head.writeUInt32BE(body.length)
      socket.write(Buffer.concat([head, body]))
    })
    socket.on('error', err => { finish(new HarnessAdminError(`admin ${path}: ${err.message}`, { cause: err })) })
    socket.on('close', () => { finish(new HarnessAdminError(`admin ${path}: closed early`)) })
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk])
      while (buf.length >= 4) {
        const len = buf.readUInt32BE(0)
        if (buf.length < 4 + len) return
        const frame = JSON.parse(buf.subarray(4, 4 + len).toString()) as unknown
        buf = buf.subarray(4 + len)
        if (frame === 'Success') { finish(null); return }
        const o = frame as Record<string, unknown>
        if ('Json' in o) values.push(o.Json)
        else if ('Error' in o) { finish(new HarnessAdminError(String((o.Error as { msg?: unknown }).msg))); return }
      }
    })
  })
}

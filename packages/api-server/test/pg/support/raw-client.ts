/**
 * A minimal raw PostgreSQL protocol client for tests that need exact control of the bytes.
 */
import { connect } from 'node:net'
import type { Socket } from 'node:net'

/** A backend message as received. */
export interface BackendMessage {
  type: string
  body: Buffer
}

/** Builds a typed frontend message. */
export function frame (type: string, ...parts: Array<Buffer | string | number[]>): Buffer {
  const body = Buffer.concat(parts.map((p) => typeof p === 'string' ? Buffer.from(p + '\0') : Array.isArray(p) ? Buffer.from(p) : p))
  const head = Buffer.alloc(5)
  head.write(type, 0)
  head.writeInt32BE(body.length + 4, 1)
  return Buffer.concat([head, body])
}

/** int16 / int32 big-endian helpers for message bodies. */
export const i16 = (n: number): Buffer => { const b = Buffer.alloc(2); b.writeInt16BE(n); return b }
export const i32 = (n: number): Buffer => { const b = Buffer.alloc(4); b.writeInt32BE(n); return b }

/** The startup packet for protocol 3.0. */
export function startupPacket (params: Record<string, string>): Buffer {
  const body = Buffer.concat([i32(196608), ...Object.entries(params).map(([k, v]) => Buffer.from(`${k}\0${v}\0`)), Buffer.from([0])])
  return Buffer.concat([i32(body.length + 4), body])
}

/** Parse message. */
export const parseMsg = (name: string, sql: string, types: number[] = []): Buffer => frame('P', name, sql, i16(types.length), ...types.map(i32))
/** Bind message with text parameters (null = NULL). */
export function bindMsg (portal: string, stmt: string, params: Array<string | Buffer | null>, resultFormats: number[] = [], paramFormats: number[] = []): Buffer {
  const vals = params.map((p) => p === null ? i32(-1) : Buffer.concat([i32(Buffer.byteLength(p)), Buffer.from(p)]))
  return frame('B', portal, stmt, i16(paramFormats.length), ...paramFormats.map(i16), i16(params.length), ...vals, i16(resultFormats.length), ...resultFormats.map(i16))
}
/** Execute message. */
export const executeMsg = (portal: string, maxRows = 0): Buffer => frame('E', portal, i32(maxRows))
/** Describe message. */
export const describeMsg = (kind: 'S' | 'P', name: string): Buffer => frame('D', Buffer.from(kind), name)
/** Close message. */
export const closeMsg = (kind: 'S' | 'P', name: string): Buffer => frame('C', Buffer.from(kind), name)
/** Sync message. */
export const syncMsg = (): Buffer => frame('S')
/** Flush message. */
export const flushMsg = (): Buffer => frame('H')
/** Query message. */
export const queryMsg = (sql: string): Buffer => frame('Q', sql)

/** A connected raw client. */
export interface RawClient {
  socket: Socket
  send(...bufs: Buffer[]): void
  /** Receives messages until one of type `until` (inclusive), within a deadline. */
  readUntil(until: string, timeoutMs?: number): Promise<BackendMessage[]>
  /** Resolves when the server closes the connection. */
  closed: Promise<void>
  /** Every byte received so far, unparsed. */
  received(): Buffer
  close(): void
}

/** Connects to 127.0.0.1:port. */
export async function rawConnect (port: number): Promise<RawClient> {
  const socket = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve, reject) => { socket.once('connect', resolve); socket.once('error', reject) })
  let buf = Buffer.alloc(0)
  let all = Buffer.alloc(0)
  const queue: BackendMessage[] = []
  let wake: (() => void) | null = null
  socket.on('data', (d: Buffer) => {
    all = Buffer.concat([all, d])
    buf = Buffer.concat([buf, d])
    while (buf.length >= 5) {
      const len = buf.readInt32BE(1)
      if (buf.length < len + 1) break
      queue.push({ type: String.fromCharCode(buf[0] as number), body: buf.subarray(5, len + 1) })
      buf = buf.subarray(len + 1)
    }
    wake?.()
  })
  socket.on('error', () => {})
  const closed = new Promise<void>((resolve) => socket.once('close', () => { wake?.(); resolve() }))
  let isClosed = false
  void closed.then(() => { isClosed = true })
  return {
    socket,
    send: (...bufs) => { socket.write(Buffer.concat(bufs)) },
    async readUntil (until, timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs
      const out: BackendMessage[] = []
      for (;;) {
        while (queue.length > 0) {
          const m = queue.shift() as BackendMessage
          out.push(m)
          if (m.type === until) return out
        }
        if (isClosed) throw new Error(`connection closed before '${until}'; got ${out.map((m) => m.type).join('')}`)
        const left = deadline - Date.now()
        if (left <= 0) throw new Error(`timed out waiting for '${until}'; got ${out.map((m) => m.type).join('')}`)
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left)
          wake = () => { clearTimeout(t); wake = null; resolve() }
        })
      }
    },
    closed,
    received: () => all,
    close: () => { socket.destroy() }
  }
}

/** Connects and completes a trust-auth startup. */
export async function rawStartup (port: number, user = 'patina'): Promise<RawClient> {
  const c = await rawConnect(port)
  c.send(startupPacket({ user, database: 'patina' }))
  await c.readUntil('Z')
  return c
}

/** Decodes the fields of an ErrorResponse / NoticeResponse. */
export function errorFields (body: Buffer): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < body.length && body[i] !== 0) {
    const code = String.fromCharCode(body[i] as number)
    const end = body.indexOf(0, i + 1)
    out[code] = body.toString('utf8', i + 1, end)
    i = end + 1
  }
  return out
}

/** Decodes a DataRow into text values (null for NULL). */
export function dataRowValues (body: Buffer): Array<string | null> {
  const n = body.readInt16BE(0)
  const out: Array<string | null> = []
  let i = 2
  for (let k = 0; k < n; k++) {
    const len = body.readInt32BE(i)
    i += 4
    if (len < 0) { out.push(null); continue }
    out.push(body.toString('utf8', i, i + len))
    i += len
  }
  return out
}

/** Decodes a DataRow into raw buffers. */
export function dataRowBuffers (body: Buffer): Array<Buffer | null> {
  const n = body.readInt16BE(0)
  const out: Array<Buffer | null> = []
  let i = 2
  for (let k = 0; k < n; k++) {
    const len = body.readInt32BE(i)
    i += 4
    if (len < 0) { out.push(null); continue }
    out.push(body.subarray(i, i + len))
    i += len
  }
  return out
}

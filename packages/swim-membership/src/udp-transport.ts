import { createSocket } from 'node:dgram'
import type { Socket } from 'node:dgram'
import { AbortError, InvalidConfigError } from './errors.ts'
import type { AbortOptions } from './types.ts'

/** A datagram channel between opaque addresses; the core's only view of the network. */
export interface PacketTransport {
  /** Fire-and-forget: losses are expected and tolerated. */
  send: (addr: string, bytes: Uint8Array) => void
  /** Registers the receive handler; returns an unsubscribe function. `from` is informational. */
  onPacket: (handler: (bytes: Uint8Array, from: string) => void) => () => void
  close?: () => void
}

/** The built-in UDP transport; addresses are "host:port" (IPv6 as "[::1]:port"). */
export interface UdpTransport extends PacketTransport {
  /** The bound address, with the real port when bound to port 0. */
  readonly address: string
  /** Datagrams that could not be sent (bad address, socket error). */
  readonly sendErrors: number
  close: () => void
}

/** Splits "host:port" or "[v6]:port"; throws InvalidConfigError naming the address. */
export function parseHostPort (addr: string): { host: string, port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(addr) ?? /^([^:]+):(\d+)$/.exec(addr)
  const port = m === null ? NaN : Number(m[2])
  if (m === null || !Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidConfigError(`Address "${addr}" is not host:port`)
  return { host: m[1] as string, port }
}

/** Binds a UDP socket on `bind` ("127.0.0.1:0" picks a free port). */
export async function createUdpTransport (bind: string, options?: AbortOptions): Promise<UdpTransport> {
  options?.signal?.throwIfAborted()
  const { host, port } = parseHostPort(bind)
  const socket: Socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' })
  await new Promise<void>((resolve, reject) => {
    const onAbort = (): void => { socket.close(); reject(new AbortError('UDP bind aborted')) }
    options?.signal?.addEventListener('abort', onAbort, { once: true })
    socket.once('error', (err) => { options?.signal?.removeEventListener('abort', onAbort); reject(err) })
    socket.bind(port, host, () => { options?.signal?.removeEventListener('abort', onAbort); resolve() })
  })
  const handlers = new Set<(bytes: Uint8Array, from: string) => void>()
  let sendErrors = 0
  let closed = false
  let inFlight = 0
  let socketClosed = false
  const closeSocket = (): void => {
    if (socketClosed) return
    socketClosed = true
    socket.close()
  }
  socket.on('error', () => { sendErrors++ })
  socket.on('message', (msg, rinfo) => {
    const from = rinfo.family === 'IPv6' ? `[${rinfo.address}]:${rinfo.port}` : `${rinfo.address}:${rinfo.port}`
    const bytes = new Uint8Array(msg.buffer, msg.byteOffset, msg.byteLength)
    for (const h of handlers) h(bytes, from)
  })
  const a = socket.address()
  const address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  return {
    address,
    get sendErrors () { return sendErrors },
    send (addr, bytes) {
      if (closed) return
      try {
        const { host: h, port: p } = parseHostPort(addr)
        socket.send(bytes, p, h, (err) => {
          if (err != null) sendErrors++
          // datagrams queued before close() (e.g. a leave) still go out
          if (--inFlight === 0 && closed) closeSocket()
        })
        // counted only once queued: a send that throws (e.g. port 0) must not keep the socket open
        inFlight++
      } catch {
        sendErrors++
      }
    },
    onPacket (handler) {
      handlers.add(handler)
      return () => { handlers.delete(handler) }
    },
    close () {
      if (closed) return
      closed = true
      handlers.clear()
      if (inFlight === 0) closeSocket()
    }
  }
}

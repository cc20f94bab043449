import type { Connection, Libp2p, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FramedStream } from './framed-stream.ts'
import { dialerHandshake, listenerHandshake } from './handshake.ts'
import type { AdmissionPolicy, HandshakeResult } from './handshake.ts'
import type { StatsRecorder } from './stats.ts'

/** Pino-compatible logger (only the levels this package uses). */
export interface GossipLogger {
  // method syntax on purpose: pino's overloaded log functions must be assignable
  debug (obj: unknown, msg?: string, ...args: unknown[]): void
  info (obj: unknown, msg?: string, ...args: unknown[]): void
  warn (obj: unknown, msg?: string, ...args: unknown[]): void
  error (obj: unknown, msg?: string, ...args: unknown[]): void
}

/** A logger that drops everything. */
export const silentLogger: GossipLogger = { debug () {}, info () {}, warn () {}, error () {} }

/** A stream that passed admission. */
export interface AdmittedStream {
  fs: FramedStream
  remotePeer: string
  /** The remote's advertised address, `/p2p/<id>` appended. */
  remoteAddr: string
  rttMs: number
}

/** What the protocol services share: the libp2p node, admission policy, limits and counters. */
export interface NodeContext {
  libp2p: Libp2p
  policy: AdmissionPolicy
  stats: StatsRecorder
  log: GossipLogger
  maxFrameBytes: number
  /** A started frame must complete within this time (slow-loris protection). */
  frameTimeoutMs: number
  dialTimeoutMs: number
  random: () => number
  /** Dial `target`, open `protocol`, run the dialer handshake (within `timeoutMs`, default `dialTimeoutMs`). */
  open: (target: Multiaddr, protocol: string, options?: { signal?: AbortSignal, timeoutMs?: number }) => Promise<AdmittedStream>
  /** Run the listener handshake on an inbound stream. */
  accept: (stream: Stream, connection: Connection, protocol: string) => Promise<AdmittedStream>
  /** Count and log an error from the network: never thrown further. */
  reject: (err: unknown, where: string, peer?: string) => void
}

function fullAddr (advertised: string, peer: string, fallback: Multiaddr): string {
  // The advertised address is untrusted text: only keep it when it looks like a multiaddr
  // without a foreign /p2p/ component; the peer id always comes from the authenticated connection.
  let base = advertised
  if (!base.startsWith('/') || base.includes('/p2p/') || base.length > 256) {
    base = fallback.toString().replace(/\/p2p\/.*$/, '')
  }
  return `${base}/p2p/${peer}`
}

// A rejection frame is already on its way: give it a moment to arrive before resetting the stream.
function abortLater (fs: FramedStream, err: Error): void {
  if (err.name !== 'AdmissionError') {
    fs.abort(err)
    return
  }
  setTimeout(() => { fs.abort(err) }, 1000).unref()
}

/** Build the dial/accept helpers of a {@link NodeContext}. */
export function streamOpeners (ctx: Omit<NodeContext, 'open' | 'accept'>): Pick<NodeContext, 'open' | 'accept'> {
  const framed = (stream: Stream): FramedStream => new FramedStream(stream, {
    maxFrameBytes: ctx.maxFrameBytes,
    frameTimeoutMs: ctx.frameTimeoutMs,
    onBytesIn: (n) => { ctx.stats.inc('bytesReceived', n) },
    onBytesOut: (n) => { ctx.stats.inc('bytesSent', n) }
  })
  return {
    async open (target, protocol, options) {
      const signal = AbortSignal.any([AbortSignal.timeout(options?.timeoutMs ?? ctx.dialTimeoutMs), ...(options?.signal != null ? [options.signal] : [])])
      const conn = await ctx.libp2p.dial(target, { signal })
      const stream = await conn.newStream(protocol, { signal })
      const fs = framed(stream)
      const remotePeer = conn.remotePeer.toString()
      let hs: HandshakeResult
      try {
        hs = await dialerHandshake(fs, protocol, remotePeer, ctx.policy, { signal })
      } catch (err) {
        abortLater(fs, err as Error)
        throw err
      }
      if (hs.rttMs > 0) ctx.stats.observe('gossip_rtt_ms', hs.rttMs)
      return { fs, remotePeer, remoteAddr: fullAddr(hs.remoteAddr, remotePeer, conn.remoteAddr), rttMs: hs.rttMs }
    },
    async accept (stream, connection, protocol) {
      const fs = framed(stream)
      const remotePeer = connection.remotePeer.toString()
      try {
        const hs = await listenerHandshake(fs, protocol, remotePeer, ctx.policy)
        return { fs, remotePeer, remoteAddr: fullAddr(hs.remoteAddr, remotePeer, connection.remoteAddr), rttMs: 0 }
      } catch (err) {
        abortLater(fs, err as Error)
        throw err
      }
    }
  }
}

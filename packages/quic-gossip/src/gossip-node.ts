import { createHash } from 'node:crypto'
import { noise } from '@chainsafe/libp2p-noise'
import { quic } from '@chainsafe/libp2p-quic'
import { yamux } from '@chainsafe/libp2p-yamux'
import { generateKeyPair } from '@libp2p/crypto/keys'
import type { Libp2p, PeerId, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { createLibp2p } from 'libp2p'
import { toMultiaddr, withoutPeerId } from './address.ts'
import { BROADCAST_PROTOCOL, Broadcaster } from './broadcaster.ts'
import type { BatchPayloadHandler, BroadcastInit, PayloadHandler } from './broadcaster.ts'
import { NotStartedError } from './errors.ts'
import { broadcastDefaults, checkNodeInit, syncDefaults } from './resolve-config.ts'
import type { AdmissionPolicy } from './handshake.ts'
import { loadOrCreateIdentity } from './identity.ts'
import { silentLogger, streamOpeners } from './node-context.ts'
import type { GossipLogger, NodeContext } from './node-context.ts'
import { PeerTable } from './peer-table.ts'
import type { MemberInfo } from './peer-table.ts'
import { StatsRecorder } from './stats.ts'
import type { GossipMetrics, GossipStats } from './stats.ts'
import { SWIM_PROTOCOL, SwimLinks } from './swim-transport.ts'
import type { SwimTransport } from './swim-transport.ts'
import type { SyncPort, SyncRoundReport } from './sync-port.ts'
import { SYNC_PROTOCOL, SyncService } from './sync-service.ts'
import type { SyncInit } from './sync-service.ts'

/** Options of {@link createGossipNode}. */
export interface GossipInit {
  /** Listen multiaddrs. Default `['/ip4/127.0.0.1/udp/0/quic-v1']`. */
  listen?: string[]
  /**
   * Address announced to peers in the handshake (they use it to name us, e.g. as SWIM `from`):
   * a multiaddr or `host:port`. Default: the first listen address, which is wrong behind NAT or
   * when listening on 0.0.0.0.
   */
  advertise?: string
  /** Ed25519 key file (created 0600 when missing). Without it (and `privateKey`) the identity is ephemeral. */
  identityPath?: string
  /** Use this key instead of a file. */
  privateKey?: PrivateKey
  /** Cluster id checked on every stream. Default 0. */
  clusterId?: number
  /** Cluster secret each side proves on every stream. */
  secret?: string
  /** Peer ids allowed to talk to this node (and be talked to). */
  allowList?: string[]
  /** Also load TCP + noise + yamux. Default false. */
  tcp?: boolean
  /** Pino-compatible logger. */
  logger?: GossipLogger
  /** Metrics hooks. */
  metrics?: GossipMetrics
  /** Randomness source in [0, 1). Default `Math.random`. */
  random?: () => number
  /** Broadcast tuning (budget, fanout, queue and rate limits). */
  broadcast?: BroadcastInit
  /** Anti-entropy tuning (intervals, peers per round, session limits). */
  sync?: SyncInit
  /** Time a peer has for the admission handshake. Default 5000 ms. */
  handshakeTimeoutMs?: number
  /** Dial + handshake timeout of outbound streams. Default 2000 ms. */
  dialTimeoutMs?: number
  /** Largest frame accepted on any stream. Default 8 MiB. */
  maxFrameBytes?: number
  /** While a frame is incomplete, more of it must arrive within this time (slow-loris). Default 10000 ms. */
  frameTimeoutMs?: number
  /** Largest SWIM packet. Default 64 KiB. */
  maxSwimPacketBytes?: number
}

/** A gossip node: broadcast, anti-entropy and a SWIM transport on one libp2p QUIC endpoint. */
export interface GossipNode {
  /** This node's libp2p peer id. */
  readonly peerId: string
  /** Listen addresses, each ending in `/p2p/<peerId>` (after `start()`). */
  readonly multiaddrs: string[]
  /** The packet port for a SWIM membership core. */
  readonly swimTransport: SwimTransport
  /** The underlying libp2p node. */
  readonly libp2p: Libp2p
  /** Listen, register the three protocol handlers and begin broadcast, sync and SWIM exchange. */
  start: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Stop every service (waiting for a sync round in progress) and the libp2p node. */
  stop: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Replace the alive set (from membership). */
  setMembers: (members: readonly MemberInfo[]) => void
  /** Originate a payload; false = queue above its high-water mark, slow down. */
  broadcast: (key: string, payload: Uint8Array) => boolean
  /** Resolves once the broadcast queue is below its high-water mark. */
  waitForCapacity: (options?: { signal?: AbortSignal }) => Promise<void>
  /** Called once per new key; return false for "not new to me". */
  onPayload: (handler: PayloadHandler) => () => void
  /** Called once per received frame with its new keys (one verdict each); see {@link BatchPayloadHandler}. */
  onPayloads: (handler: BatchPayloadHandler) => () => void
  /** Remember `key` as seen (e.g. it arrived through sync), so a later broadcast of it is a duplicate. */
  markSeen: (key: string) => void
  /** Plug in the store's anti-entropy port. */
  attachSync: (port: SyncPort) => void
  /** Run one anti-entropy round now. */
  syncNow: (options?: { signal?: AbortSignal }) => Promise<SyncRoundReport>
  /** Counter snapshot. */
  stats: () => GossipStats
}

const FRAME_ERRORS = new Set(['FrameTooLargeError', 'MalformedFrameError', 'UnknownTagError', 'HandshakeError', 'StreamTimeoutError', 'StreamBufferError'])

/**
 * Create a gossip node (not started). Loads or creates the identity, builds the libp2p node
 * with QUIC (and optionally TCP) and wires the three protocols.
 */
export async function createGossipNode (init: GossipInit = {}, options?: { signal?: AbortSignal }): Promise<GossipNode> {
  checkNodeInit(init)
  const broadcastConfig = broadcastDefaults(init.broadcast)
  const syncConfig = syncDefaults(init.sync)
  const privateKey = init.privateKey ??
    (init.identityPath != null ? await loadOrCreateIdentity(init.identityPath, options) : await generateKeyPair('Ed25519'))
  const allowList = init.allowList != null ? new Set(init.allowList) : undefined
  const log = init.logger ?? silentLogger
  const stats = new StatsRecorder(init.metrics)
  const useTcp = init.tcp === true
  const libp2p = await createLibp2p({
    privateKey,
    start: false,
    addresses: { listen: init.listen ?? ['/ip4/127.0.0.1/udp/0/quic-v1'] },
    transports: useTcp ? [quic(), tcp()] : [quic()],
    connectionEncrypters: useTcp ? [noise()] : [],
    streamMuxers: useTcp ? [yamux()] : [],
    // every node of a test cluster shares 127.0.0.1: the per-host inbound rate limit would stall it
    connectionManager: { inboundConnectionThreshold: 100_000, maxConnections: 1000, maxIncomingPendingConnections: 1000 },
    // libp2p's monitor opens a ping stream on every connection every 10 s; we register no ping
    // protocol, so each one costs a stream set-up, a failed protocol negotiation and a reset, all
    // in one burst per node: that burst stalled the event loop for 100+ ms (the broadcast latency
    // tail). Dead connections are found anyway by QUIC's keep-alive/idle timeout (yamux's
    // keep-alive on TCP) and dead peers by SWIM.
    connectionMonitor: { enabled: false },
    ...(allowList != null
      ? {
          connectionGater: {
            denyDialPeer: (peer: PeerId) => !allowList.has(peer.toString()),
            denyInboundEncryptedConnection: (peer: PeerId) => {
              const deny = !allowList.has(peer.toString())
              if (deny) stats.inc('admissionRejected', 1, { reason: 'allow_list' })
              return deny
            }
          }
        }
      : {})
  })
  const peerId = libp2p.peerId.toString()
  const advertised = init.advertise != null ? withoutPeerId(toMultiaddr(init.advertise)) : undefined
  const policy: AdmissionPolicy = {
    clusterId: init.clusterId ?? 0,
    localPeerId: peerId,
    localAddr: '',
    timeoutMs: init.handshakeTimeoutMs ?? 5000,
    ...(init.secret != null ? { secretKey: createHash('sha256').update(`patina-cluster-secret/${init.secret}`).digest() } : {}),
    ...(allowList != null ? { allowList } : {})
  }
  const base: Omit<NodeContext, 'open' | 'accept'> = {
    libp2p,
    policy,
    stats,
    log,
    maxFrameBytes: init.maxFrameBytes ?? 8 * 1024 * 1024,
    frameTimeoutMs: init.frameTimeoutMs ?? 10_000,
    dialTimeoutMs: init.dialTimeoutMs ?? 5000,
    random: init.random ?? Math.random,
    reject (err, where, peer) {
      const name = (err as Error | undefined)?.name ?? 'Error'
      if (name === 'AdmissionError') {
        stats.inc('admissionRejected', 1, { reason: where })
        log.warn({ peer, where, err: (err as Error).message }, 'peer rejected at admission')
      } else if (FRAME_ERRORS.has(name)) {
        stats.inc('framesRejected', 1, { reason: name })
        log.warn({ peer, where, err: (err as Error).message }, 'bad input from peer dropped')
      } else {
        log.debug({ peer, where, err: (err as Error | undefined)?.message }, 'stream error')
      }
    }
  }
  const ctx: NodeContext = { ...base, ...streamOpeners(base) }
  const peers = new PeerTable(peerId, allowList)
  const broadcaster = new Broadcaster(ctx, peers, broadcastConfig)
  const swim = new SwimLinks(ctx, { maxPacketBytes: init.maxSwimPacketBytes ?? 64 * 1024, maxLinkBufferBytes: 1024 * 1024 })
  const sync = new SyncService(ctx, peers, syncConfig)
  let started = false
  const resolving = new Set<string>()

  // members given without a peer id: dial once to learn who answers there (not ourselves, and
  // not again within a second of a failure, however often membership calls setMembers)
  const resolveFailedAt = new Map<string, number>()
  const resolvePeers = (): void => {
    const own = new Set(libp2p.getMultiaddrs().map((m) => withoutPeerId(m)))
    const now = performance.now()
    for (const [addrBase, ma] of peers.unresolved()) {
      if (resolving.has(addrBase) || own.has(addrBase)) continue
      const failed = resolveFailedAt.get(addrBase)
      if (failed != null && now - failed < 1000) continue
      resolving.add(addrBase)
      libp2p.dial(ma, { signal: AbortSignal.timeout(ctx.dialTimeoutMs) })
        .then((conn) => {
          resolveFailedAt.delete(addrBase)
          peers.learn(addrBase, conn.remotePeer.toString())
        })
        .catch((err: unknown) => {
          if (resolveFailedAt.size > 10_000) resolveFailedAt.clear()
          resolveFailedAt.set(addrBase, performance.now())
          log.debug({ err, addr: addrBase }, 'cannot resolve member address')
        })
        .finally(() => { resolving.delete(addrBase) })
    }
  }

  // force: a stopped node keeps its registrar, and start() registers again
  const handlerOptions = { maxInboundStreams: 256, maxOutboundStreams: 256, force: true as const }
  return {
    peerId,
    get multiaddrs () { return libp2p.getMultiaddrs().map((m) => m.toString()) },
    swimTransport: swim,
    libp2p,
    async start (opts) {
      opts?.signal?.throwIfAborted()
      if (started) return
      await libp2p.start()
      const first = libp2p.getMultiaddrs()[0]
      policy.localAddr = advertised ?? (first != null ? withoutPeerId(first) : '')
      await libp2p.handle(BROADCAST_PROTOCOL, (s, c) => broadcaster.handleInbound(s, c), handlerOptions)
      await libp2p.handle(SWIM_PROTOCOL, (s, c) => swim.handleInbound(s, c), handlerOptions)
      await libp2p.handle(SYNC_PROTOCOL, (s, c) => sync.handleInbound(s, c), handlerOptions)
      broadcaster.start()
      swim.start()
      sync.start()
      started = true
      resolvePeers()
    },
    async stop (opts) {
      opts?.signal?.throwIfAborted()
      if (!started) return
      started = false
      broadcaster.stop()
      swim.stop()
      await sync.stop()
      await libp2p.stop()
    },
    setMembers (members) {
      const invalid = peers.setMembers(members)
      if (invalid.length > 0) log.warn({ invalid }, 'ignored members with invalid addresses')
      if (started) {
        broadcaster.prune()
        resolvePeers()
      }
    },
    broadcast (key, payload) {
      if (!started) throw new NotStartedError('broadcast() needs a started node')
      return broadcaster.broadcast(key, payload)
    },
    waitForCapacity: async (opts) => { await broadcaster.waitForCapacity(opts) },
    onPayload: (handler) => broadcaster.onPayload(handler),
    onPayloads: (handler) => broadcaster.onPayloads(handler),
    markSeen: (key) => { broadcaster.markSeen(key) },
    attachSync: (port) => { sync.attach(port) },
    async syncNow (opts) {
      if (!started) throw new NotStartedError('syncNow() needs a started node')
      return await sync.syncNow(opts)
    },
    stats () {
      return { ...stats.counters, queued: broadcaster.queued, links: broadcaster.links + swim.links }
    }
  }
}

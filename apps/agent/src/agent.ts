import { mkdirSync, readFileSync } from 'node:fs'
import { dirname } from 'node:path'
import { openStore, encodeChangeset } from '@patina/crdt-store'
import type { Changeset, CrdtStore } from '@patina/crdt-store'
import { createSwim, resolveConfig } from '@patina/swim-membership'
import { createGossipNode } from '@patina/quic-gossip'
import { createApiServer, createPgServer as defaultPgServer } from '@patina/api-server'
import type { Statement } from '@patina/api-server'
import type { Logger } from 'pino'
import { type AgentConfig, toQuicMultiaddr } from './config.ts'
import { createLogger } from './logger.ts'
import { createMetrics, serveMetrics, LagWindow, type AgentMetrics } from './metrics.ts'
import { createAdminServer, socketAnswers, type AdminServer } from './admin-server.ts'
import { adminHandler } from './admin-handler.ts'
import { readSchemaFiles } from './schema-files.ts'
import { fatalCode } from './fatal.ts'
import { ConfigError, FatalStorageError, NodeRunningError, ListenError } from './errors.ts'
import { contentHash, type ContentHash } from './content-hash.ts'
import { PartitionFilter } from './adapters/partition.ts'
import { encodeMemberMeta } from './adapters/member-meta.ts'
import { memberList, gossipPeers, type AgentMember } from './adapters/membership-view.ts'
import { createPayloadHandler } from './adapters/payload-handler.ts'
import { gossipMetricsAdapter } from './adapters/gossip-metrics.ts'
import { createApiStore } from './adapters/api-store.ts'
import { createSyncPort, changesetKey, type SyncPortBytes } from './adapters/sync-port.ts'
import { catchUpGate, openGate, type CatchUpGate } from './catch-up.ts'

/** Broadcast budget multiplier λ of the agent's gossip (see the comment where it is used). */
const BROADCAST_LAMBDA = 2

/** Anti-entropy asks only for versions announced at least this long ago (see AgedHeads). */
const SYNC_GRACE_MS = 500

export type { AgentMember }

/** The PG endpoint factory (api-server's `createPgServer` or a stand-in with its signature). */
export type PgServerFactory = typeof defaultPgServer

/** Options of `createAgent`. */
export interface AgentInit {
  config: AgentConfig
  /** Logger (default: one built from `[log]`). */
  logger?: Logger
  /** Metrics (default: a fresh registry). */
  metrics?: AgentMetrics
  /** SWIM timing preset (default `lan`; the cluster harness uses `local`). */
  swimPreset?: 'lan' | 'wan' | 'local'
  /** Sync interval bounds, ms (default the gossip package's 1–15 s). */
  syncIntervalMs?: { min: number; max: number }
  /** The PG endpoint factory (default: `@patina/api-server`'s `createPgServer`). */
  createPgServer?: PgServerFactory
  /**
   * After start, local writes wait until one anti-entropy round has completed with two peers (one
   * when the bootstrap list names one), so versions this node lost come back before it numbers new
   * ones; at most this long (ms, default 30 000, longer than QUIC's idle timeout). Only a node with
   * data, and a bootstrap list or data from other nodes, waits.
   */
  catchUpTimeoutMs?: number
}

/** Where a running agent listens. */
export interface Listening {
  api: string[]
  pg?: string
  gossip: string[]
  admin: string
  prometheus?: string
}

/** A running Patina node. */
export interface Agent {
  readonly config: AgentConfig
  readonly logger: Logger
  readonly metrics: AgentMetrics
  /** This node's actor (site) id, hex. */
  readonly actorId: string
  /** This node's libp2p peer id (after start). */
  readonly peerId: string
  /** Addresses, after start. */
  readonly listening: Listening
  /** Resolves when the agent stops for any reason (including a fatal storage error). */
  readonly stopped: Promise<{ fatal?: Error }>
  start(options?: { signal?: AbortSignal }): Promise<Listening>
  /** Leaves the cluster gracefully (unless `leave: false`), then stops everything in reverse order. */
  stop(options?: { signal?: AbortSignal; leave?: boolean }): Promise<void>
  /** Writes through the store and broadcasts the changes. */
  transaction(statements: ReadonlyArray<{ sql: string; params?: readonly unknown[] | Record<string, unknown> }>, options?: { signal?: AbortSignal }): Promise<{ version: number | null; rowsAffected: number[] }>
  /** Reads rows (arrays) with a read-only statement. */
  query(sql: string, params?: readonly unknown[]): { columns: string[]; rows: unknown[][] }
  members(): AgentMember[]
  syncStatus(): unknown
  /** Re-reads the schema files and applies them. */
  reload(options?: { signal?: AbortSignal }): Promise<unknown>
  /** Runs one anti-entropy round now. */
  syncNow(options?: { signal?: AbortSignal }): Promise<unknown>
  /** Test hook: drops traffic to and from the given peers (actor hex or peer id). */
  partition(peers: readonly string[]): void
  /** Test hook: removes every partition. */
  heal(): void
  contentHash(): ContentHash
  gapCount(): number
  /** Consistent snapshot; without `keepIdentity` the copy forgets this node's actor id (safe to seed other nodes). */
  backup(dest: string, options?: { signal?: AbortSignal; progress?: (done: number, total: number) => void; keepIdentity?: boolean }): Promise<void>
  rejoin(options?: { signal?: AbortSignal }): Promise<void>
}

/**
 * The composition root: opens the store and applies the schema files now; `start()` then brings up
 * gossip + membership, sync, the HTTP/PG API, the admin socket and metrics, in that order.
 */
export async function createAgent (init: AgentInit): Promise<Agent> {
  const { config } = init
  const logger = init.logger ?? createLogger({ format: config.log.format, colors: config.log.colors, level: config.log.level })
  const metrics = init.metrics ?? createMetrics({ defaultMetrics: true })
  if (config.db.path !== ':memory:') mkdirSync(dirname(config.db.path), { recursive: true })
  const schemaFiles = readSchemaFiles(config.db.schemaPaths)
  // Two nodes on one database would share an actor id: refuse before touching the file.
  if (await socketAnswers(config.admin.path)) throw new NodeRunningError(`a node is already running with admin socket ${config.admin.path}; stop it first or use another [admin] path and [db] path`)
  let store: CrdtStore
  try {
    store = openStore({ path: config.db.path })
  } catch (err) {
    const code = fatalCode(err) ?? (err as { code?: string }).code
    throw new FatalStorageError(`cannot open the database at ${config.db.path}: ${(err as Error).message}${code !== undefined ? ` (${code})` : ''}`, { cause: err })
  }
  try {
    if (schemaFiles.length > 0) store.applySchema(schemaFiles.map(f => f.sql))
  } catch (err) {
    store.close()
    throw err
  }
  const actorId = Buffer.from(store.siteId).toString('hex')
  const lag = new LagWindow()
  const partition = new PartitionFilter()
  let resolveStopped!: (v: { fatal?: Error }) => void
  const stopped = new Promise<{ fatal?: Error }>(resolve => { resolveStopped = resolve })
  let state: 'created' | 'starting' | 'running' | 'stopping' | 'stopped' = 'created'
  let listening: Listening = { api: [], gossip: [], admin: config.admin.path }
  /** The gossip address this node advertises to the cluster (after start). */
  let advertised = ''

  type Gossip = Awaited<ReturnType<typeof createGossipNode>>
  type Swim = ReturnType<typeof createSwim>
  let gossip: Gossip | undefined
  let syncPort: SyncPortBytes | undefined
  let swim: Swim | undefined
  const services: Array<{ name: string; stop: () => Promise<void> }> = []

  // Fatal SQLite conditions stop the node instead of letting it run on a store it can't trust.
  const guard = <T>(fn: () => T): T => {
    try {
      return fn()
    } catch (err) {
      const code = fatalCode(err)
      if (code !== undefined) onFatal(new FatalStorageError(`fatal storage error (${code}): ${(err as Error).message}; stopping the node`, { cause: err }))
      throw err
    }
  }
  let fatalError: Error | undefined
  const onFatal = (err: Error): void => {
    if (state === 'stopping' || state === 'stopped') return
    fatalError = err
    logger.fatal({ err: err.message }, 'fatal storage error, stopping the node')
    void agent.stop({ leave: true })
  }

  const broadcastChangesets = async (changesets: readonly Changeset[], options?: { signal?: AbortSignal }): Promise<void> => {
    const g = gossip
    if (g === undefined) return
    let full = false
    for (const cs of changesets) {
      if (!g.broadcast(changesetKey(cs), encodeChangeset(cs))) full = true
    }
    if (full) await g.waitForCapacity({ signal: options?.signal ?? AbortSignal.timeout(10_000) }).catch(() => {})
  }

  // open until start decides whether this node must catch up first
  let writeGate: CatchUpGate = openGate()
  const apiStore = createApiStore({ store, guard, onLocalCommit: broadcastChangesets, writesReady: async (signal) => { await writeGate.wait(signal) } })
  store.onCommit(ev => {
    metrics.changesCommitted.inc({ source: ev.source })
  })
  metrics.onCollect(() => {
    metrics.gaps.set(store.gapCount())
    if (gossip !== undefined) metrics.gossipQueued.set(gossip.stats().queued)
    const counts = { alive: 0, suspect: 0, down: 0, left: 0 }
    for (const m of swim?.members() ?? []) counts[m.state as keyof typeof counts]++
    for (const [s, n] of Object.entries(counts)) metrics.members.set({ state: s }, n)
  })

  const onPayload = createPayloadHandler({ store, guard, partition, metrics, lag, logger, now: () => Date.now() })

  const members = (): AgentMember[] => memberList(swim?.members() ?? [], {
    actor: actorId,
    addr: advertised !== '' ? advertised : listening.gossip[0] ?? config.gossip.addr,
    ...(gossip !== undefined ? { peerId: gossip.peerId } : {}),
    ...(listening.api[0] !== undefined ? { api: listening.api[0] } : {})
  })

  const pushMembers = (): void => {
    if (gossip === undefined || swim === undefined) return
    gossip.setMembers(gossipPeers(swim.members(), actorId, config.gossip.clusterId, partition))
  }

  const cluster = {
    members: () => members().map(m => ({ id: m.id, addr: m.addr, state: m.state, incarnation: m.incarnation })),
    health: () => ({
      gaps: store.gapCount(),
      // Peers only, as Corrosion counts its members table (the port's contract).
      members: members().filter(m => m.state === 'alive' && m.self !== true).length,
      p99Lag: lag.p99(Date.now()),
      // Changesets are applied as they arrive (no apply queue), so there is no backlog to report.
      queueSize: 0
    })
  }

  const reload = async (options?: { signal?: AbortSignal }): Promise<unknown> => {
    options?.signal?.throwIfAborted()
    const files = readSchemaFiles(config.db.schemaPaths)
    const change = guard(() => store.applySchema(files.map(f => f.sql)))
    logger.info({ files: files.length }, 'schema reloaded')
    return change ?? null
  }

  let admin: AdminServer | undefined

  const agent: Agent = {
    config,
    logger,
    metrics,
    actorId,
    get peerId () { return gossip?.peerId ?? '' },
    get listening () { return listening },
    stopped,
    async start (options) {
      if (state !== 'created') throw new Error(`agent is ${state}`)
      state = 'starting'
      const signal = options?.signal
      try {
        // 1. gossip transport (QUIC)
        mkdirSync(dirname(config.gossip.identityPath), { recursive: true })
        gossip = await createGossipNode({
          listen: [toQuicMultiaddr(config.gossip.addr)],
          identityPath: config.gossip.identityPath,
          clusterId: config.gossip.clusterId,
          ...(config.gossip.secret !== null ? { secret: config.gossip.secret } : {}),
          ...(config.gossip.allowPeers.length > 0 ? { allowList: config.gossip.allowPeers } : {}),
          logger: logger.child({ component: 'gossip' }),
          metrics: gossipMetricsAdapter(metrics),
          // Transmit budget ceil(2·log10(N+1)) sends per payload per node (3 at N = 10): measured
          // against quic-gossip's general default (4), a 10-node cluster under write load drains
          // its queues sooner after the load stops (1.5–2.2 s vs 2.4–2.9 s to converge at 1000
          // writes/s asked on two cores); anti-entropy fills anything broadcast misses. Up to 16
          // peers, quic-gossip sends a node's own changesets to every peer directly instead (ADR
          // 0007), so the budget governs larger clusters.
          broadcast: { lambda: BROADCAST_LAMBDA },
          ...(init.syncIntervalMs !== undefined ? { sync: { minIntervalMs: init.syncIntervalMs.min, maxIntervalMs: init.syncIntervalMs.max } } : {})
        })
        // (once gossip is stopped, changesets received in its last turn are applied before the
        // store closes)
        services.unshift({ name: 'gossip', stop: async () => { await gossip?.stop(); onPayload.flush() } })
        // Handlers first, so nothing that arrives right after listening starts is missed.
        const g = gossip
        g.onPayloads(onPayload)
        syncPort = createSyncPort({
          store,
          guard,
          logger,
          graceMs: SYNC_GRACE_MS,
          onApplied: (fresh, key) => {
            metrics.changesetsApplied.inc({ source: 'sync', result: fresh ? 'new' : 'known' })
            // Already have it: a later broadcast of the same key must not be handed up again.
            g.markSeen(key)
          }
        })
        g.attachSync(syncPort)
        await listening_('gossip.addr', config.gossip.addr, async () => { await gossip?.start(signal !== undefined ? { signal } : {}) })
        const gossipAddrs = gossip.multiaddrs
        const apiAddrPlaceholder = config.api.addr[0]

        // 2. membership over the gossip transport
        const raw = gossip.swimTransport
        const transport = {
          send: (addr: string, bytes: Uint8Array): void => {
            if (partition.isAddrBlocked(addr)) return
            raw.send(addr, bytes)
          },
          onPacket: (handler: (bytes: Uint8Array, from: string) => void): (() => void) =>
            raw.onPacket((bytes, from) => { if (!partition.isAddrBlocked(from)) handler(bytes, from) })
        }
        const selfAddr = advertisedAddr(config.gossip.externalAddr, gossipAddrs, gossip.peerId, config.gossip.addr)
        advertised = selfAddr
        swim = createSwim({
          transport,
          identity: { id: actorId, addr: selfAddr, meta: encodeMemberMeta({ actor: actorId, peerId: gossip.peerId, clusterId: config.gossip.clusterId, ...(apiAddrPlaceholder !== undefined ? { api: apiAddrPlaceholder } : {}) }) },
          seeds: config.gossip.bootstrap.map(b => toQuicMultiaddr(b, 'gossip.bootstrap')),
          config: { ...resolveConfig(init.swimPreset ?? 'lan'), clusterId: config.gossip.clusterId },
          logger: logger.child({ component: 'swim' })
        })
        for (const ev of ['member:up', 'member:down', 'member:left', 'member:updated']) {
          swim.addEventListener(ev, (e: Event) => {
            const m = (e as CustomEvent<{ id: string; addr: string }>).detail
            logger.info({ member: m.id, addr: m.addr }, ev)
            pushMembers()
          })
        }
        services.unshift({ name: 'membership', stop: async () => { await swim?.stop() } })
        await swim.start()
        pushMembers()
        // A node that has been part of a cluster (or is joining one) catches up before writing. An
        // empty store needs not: its actor id is new, so no peer can hold versions of it.
        const known = guard(() => store.syncStatus())
        if (known.some(a => a.head > 0) && (config.gossip.bootstrap.length > 0 || known.some(a => a.actor !== actorId))) {
          const s = swim
          writeGate = catchUpGate({
            // longer than QUIC's 10 s idle timeout: after a kill -9 and a quick restart on the same
            // identity, peers keep talking to the dead connection until it expires
            timeoutMs: init.catchUpTimeoutMs ?? 30_000,
            peersNeeded: Math.min(2, Math.max(1, config.gossip.bootstrap.length)),
            logger,
            peers: {
              anyAlive: () => s.members().some(m => m.state === 'alive'),
              syncRound: async () => (await syncPort!.eager(async () => await g.syncNow())).peersSynced,
              onMembership: (fn) => {
                s.addEventListener('member:up', fn)
                return () => { s.removeEventListener('member:up', fn) }
              }
            }
          })
          const gate = writeGate
          services.unshift({ name: 'catch-up', stop: async () => { gate.close() } })
        }
        // Like Corrosion's announcer: while this node knows nobody alive, keep announcing to the
        // bootstrap list with backoff (5 s → 60 s), so starting before the seeds is fine.
        const seeds = config.gossip.bootstrap.map(b => toQuicMultiaddr(b, 'gossip.bootstrap'))
        if (seeds.length > 0) {
          let delay = 5000
          let announcer: NodeJS.Timeout | undefined
          const announce = (): void => {
            const s = swim
            if (s === undefined || state === 'stopping' || state === 'stopped') return
            if (!s.members().some(m => m.state === 'alive')) {
              s.join(seeds).catch((err: unknown) => { logger.debug({ err: (err as Error).message }, 'announce failed') })
              delay = Math.min(60_000, delay * 2)
            } else {
              delay = 5000
            }
            announcer = setTimeout(announce, delay)
            announcer.unref()
          }
          announcer = setTimeout(announce, delay)
          announcer.unref()
          services.unshift({ name: 'announcer', stop: async () => { clearTimeout(announcer) } })
        }

        // 3. API (HTTP, then PG)
        const apiAddrs: string[] = []
        for (const addr of config.api.addr) {
          const server = createApiServer({
            store: apiStore,
            cluster,
            addr,
            actorId,
            ...(config.api.bearerToken !== null ? { bearerToken: config.api.bearerToken } : {}),
            ...(config.api.endpointName !== null ? { endpointName: config.api.endpointName } : {}),
            dataDir: config.db.subscriptionsPath,
            logger: logger.child({ component: 'api' }),
            onRequest: (info) => { metrics.apiRequests.inc({ route: info.route, status: String(info.status) }) }
          })
          services.unshift({ name: `api ${addr}`, stop: async () => { await server.stop() } })
          const a = await listening_('api.addr', addr, async () => await server.start(signal !== undefined ? { signal } : {}))
          apiAddrs.push(`${a.host}:${a.port}`)
        }
        let pgAddr: string | undefined
        if (config.api.pgAddr !== null) {
          const createPgServer = init.createPgServer ?? defaultPgServer
          const pg = createPgServer({
            store: apiStore,
            addr: config.api.pgAddr,
            ...(config.api.pgReadonly === true ? { readonly: true } : {}),
            ...(config.api.pgTls != null ? { tls: readPgTls(config.api.pgTls) } : {}),
            ...(config.api.pgPassword !== null ? { auth: { ...(config.api.pgUser !== null ? { user: config.api.pgUser } : {}), password: config.api.pgPassword } } : {}),
            logger: logger.child({ component: 'pg' })
          })
          services.unshift({ name: 'pg', stop: async () => { await pg.stop() } })
          const a = await listening_('api.pg.addr', config.api.pgAddr, async () => await pg.start(signal !== undefined ? { signal } : {}))
          pgAddr = `${a.host}:${a.port}`
        }
        // The real API port is known only now (port 0); tell the cluster.
        if (apiAddrs[0] !== undefined && apiAddrs[0] !== apiAddrPlaceholder) {
          swim.updateMeta(encodeMemberMeta({ actor: actorId, peerId: gossip.peerId, clusterId: config.gossip.clusterId, api: apiAddrs[0] }))
        }

        // 4. admin socket
        admin = createAdminServer({ path: config.admin.path, handler: adminHandler(agent), logger: logger.child({ component: 'admin' }) })
        await admin.start(signal !== undefined ? { signal } : {})
        services.unshift({ name: 'admin', stop: async () => { await admin?.stop() } })

        // 5. metrics
        let promAddr: string | undefined
        if (config.telemetry.prometheusAddr !== null) {
          const promAddr_ = config.telemetry.prometheusAddr
          const prom = await listening_('telemetry.prometheus.addr', promAddr_, async () => await serveMetrics(metrics.registry, promAddr_, signal !== undefined ? { signal } : {}))
          services.unshift({ name: 'prometheus', stop: prom.close })
          promAddr = prom.address
        }
        listening = {
          api: apiAddrs,
          gossip: gossipAddrs,
          admin: config.admin.path,
          ...(pgAddr !== undefined ? { pg: pgAddr } : {}),
          ...(promAddr !== undefined ? { prometheus: promAddr } : {})
        }
        state = 'running'
        logger.info({ actor: actorId, peer: gossip.peerId, ...listening }, 'patina node started')
        return listening
      } catch (err) {
        state = 'running'
        await agent.stop({ leave: false }).catch(() => {})
        throw err
      }
    },
    async stop (options) {
      if (state === 'stopping' || state === 'stopped') { await stopped; return }
      const wasRunning = state === 'running'
      state = 'stopping'
      if (wasRunning && options?.leave !== false && swim !== undefined) {
        try {
          await swim.leave({ signal: options?.signal ?? AbortSignal.timeout(3000) })
        } catch (err) {
          logger.warn({ err: (err as Error).message }, 'graceful leave did not complete')
        }
      }
      for (const s of [...services]) {
        try { await s.stop() } catch (err) { logger.warn({ err: (err as Error).message, service: s.name }, 'error while stopping') }
      }
      services.length = 0
      try { store.close() } catch (err) { logger.warn({ err: (err as Error).message }, 'error closing the store') }
      state = 'stopped'
      logger.info('patina node stopped')
      resolveStopped(fatalError !== undefined ? { fatal: fatalError } : {})
    },
    async transaction (statements, options) {
      const out = await apiStore.transaction(statements as readonly Statement[], options)
      return { version: out.version, rowsAffected: out.results.map(r => r.rowsAffected) }
    },
    query (sql, params) {
      const cursor = guard(() => store.read(sql, params as Statement['params']))
      try {
        return { columns: cursor.columns.map(c => c.name), rows: [...cursor.rows] }
      } finally {
        cursor.close()
      }
    },
    members,
    syncStatus: () => guard(() => store.syncStatus()),
    reload,
    async syncNow (options) {
      const g = gossip
      if (g === undefined || syncPort === undefined) throw new Error('agent is not started')
      // asked for by an operator: fetch everything peers hold, however recent. A timed round in
      // progress may have planned already, so after joining it run one more.
      return await syncPort.eager(async () => {
        await g.syncNow(options)
        return await g.syncNow(options)
      })
    },
    partition (peers) {
      partition.block(peers)
      pushMembers()
      logger.warn({ peers: partition.list() }, 'partition test hook: dropping traffic to and from peers')
    },
    heal () {
      partition.heal()
      pushMembers()
      logger.warn('partition test hook: healed')
    },
    contentHash: () => guard(() => contentHash(store)),
    gapCount: () => store.gapCount(),
    async backup (dest, options) {
      await store.backup(dest, { ...(options?.signal !== undefined ? { signal: options.signal } : {}), ...(options?.progress !== undefined ? { progress: options.progress } : {}), ...(options?.keepIdentity === true ? { keepIdentity: true } : {}) })
    },
    async rejoin (options) {
      options?.signal?.throwIfAborted()
      swim?.rejoin()
    }
  }
  return agent
}

/** Runs a listen step; a failure becomes a ListenError naming the config key and address. */
async function listening_<T> (key: string, addr: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    const msg = (err as Error).message
    const reason = /address already in use|EADDRINUSE/i.test(msg) ? 'address already in use' : /EACCES|permission denied/i.test(msg) ? 'permission denied' : /EADDRNOTAVAIL|cannot assign/i.test(msg) ? 'address not available on this machine' : msg.split('\n')[0]
    throw new ListenError(`cannot listen on ${addr} (${key}): ${reason}`, { cause: err })
  }
}

/**
 * The address other members reach this node at: `external_addr` when set; else the first listen
 * address that is not a wildcard (and not loopback when another one exists).
 */
function advertisedAddr (external: string | null, listen: readonly string[], peerId: string, bind: string): string {
  if (external !== null) {
    const ma = toQuicMultiaddr(external, 'gossip.external_addr')
    return ma.includes('/p2p/') ? ma : `${ma}/p2p/${peerId}`
  }
  const usable = listen.filter(a => !a.startsWith('/ip4/0.0.0.0/') && !a.startsWith('/ip6/::/'))
  const outside = usable.find(a => !a.startsWith('/ip4/127.') && !a.startsWith('/ip6/::1/'))
  return outside ?? usable[0] ?? `${toQuicMultiaddr(bind)}/p2p/${peerId}`
}

/** Reads `[api.pg.tls]`'s PEM files; an unreadable file is a configuration error (exit 2). */
function readPgTls (tls: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const read = (key: string, file: string): Buffer => {
    try {
      return readFileSync(file)
    } catch (err) {
      throw new ConfigError(key, `cannot read ${file}: ${(err as Error).message}`, { cause: err })
    }
  }
  return { cert: read('api.pg.tls.cert_file', tls.certFile), key: read('api.pg.tls.key_file', tls.keyFile) }
}

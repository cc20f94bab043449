import { spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, mkdtempSync, openSync, closeSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { AGENT_ENV, AGENT_NODE_FLAGS, SOURCE_NODE_FLAGS, agentLaunch } from '../../../apps/agent/bin/launch.mjs'
import { admin } from './admin.ts'
import { freePorts } from './free-port.ts'
import { getText, postJson } from './http-post.ts'
import { parsePrometheus } from './prometheus.ts'
import { waitFor } from './wait-for.ts'

/** Options of `createCluster`. */
export interface ClusterInit {
  /** Number of agents. */
  nodes: number
  /** Schema SQL written to every node's schema file. */
  schema?: string
  /** Parent directory for node data (default: a fresh temp dir, removed by `destroy`). */
  baseDir?: string
  /** Extra environment for every agent (e.g. `PATINA_LOG__LEVEL`). */
  env?: Record<string, string>
  /** SWIM preset (default `local`: fast failure detection on loopback). */
  swimPreset?: 'local' | 'lan' | 'wan'
  /** Anti-entropy interval bounds in ms (default 300–1000). */
  syncIntervalMs?: [number, number]
  /**
   * The agent entry, run as TypeScript source (default: this repository's agent, from its build when
   * that is current, else from apps/agent/src/bin.ts; `PATINA_FROM_SOURCE=1` forces the sources).
   */
  agentEntry?: string
  /** Node binary (default: the one running the harness). */
  nodeBinary?: string
  /**
   * Node flags for every agent, instead of the launchers' own (`AGENT_NODE_FLAGS` of
   * apps/agent/bin/launch.mjs: a small young generation and slow old-generation growth, which keep
   * an agent's peak RSS under load near 150 MiB).
   */
  nodeArgs?: string[]
  /** Extra TOML appended to every node's config. */
  extraToml?: string
  /** Time allowed for one node to start serving (default 30 s). */
  startTimeoutMs?: number
  /** Serve Prometheus metrics on a free 127.0.0.1 port per node (read with `metrics(i)`). */
  metrics?: boolean
}

/** One agent process of the cluster. */
export interface ClusterNode {
  readonly index: number
  readonly name: string
  readonly dir: string
  readonly configPath: string
  readonly dbPath: string
  readonly adminPath: string
  readonly logPath: string
  /** `127.0.0.1:port` of the HTTP API. */
  readonly apiAddr: string
  /** `127.0.0.1:port` (UDP) of gossip. */
  readonly gossipAddr: string
  /** `127.0.0.1:port` of the Prometheus endpoint, when the cluster was created with `metrics`. */
  readonly metricsAddr: string | undefined
  /** Actor id (hex) and peer id, known once started. */
  actorId: string
  peerId: string
  readonly running: boolean
  readonly pid: number | undefined
}

/** Content digest of a node, from the admin socket. */
export interface NodeContent { hash: string; rows: number; tables: Record<string, number> }

/** A running local cluster. */
export interface Cluster {
  readonly baseDir: string
  readonly nodes: readonly ClusterNode[]
  /** Starts every node (in order; each bootstraps from all the others). */
  start(options?: { signal?: AbortSignal }): Promise<void>
  /** Starts one node (after a kill or stop) and waits until it serves. */
  startNode(i: number, options?: { signal?: AbortSignal }): Promise<void>
  /** SIGKILL: no leave, no flush. */
  kill9(i: number): Promise<void>
  /** SIGTERM: graceful leave; waits for the exit. */
  stopNode(i: number, options?: { timeoutMs?: number }): Promise<number | null>
  /** kill -9 then start again with the same data, ports and identity. */
  restart(i: number): Promise<void>
  /** Cuts traffic between the two groups (both directions), through each node's admin test hook. */
  partition(groupA: readonly number[], groupB: readonly number[]): Promise<void>
  /** Removes every partition. */
  heal(): Promise<void>
  /** Runs statements through node `i`'s HTTP API; resolves with the response body. */
  exec(i: number, statements: unknown[], options?: { signal?: AbortSignal }): Promise<{ results: Array<{ rows_affected?: number; error?: string }>; version?: number | null }>
  /** Reads through node `i`'s HTTP API. */
  query(i: number, statement: unknown, options?: { signal?: AbortSignal }): Promise<unknown[][]>
  /** Sends an admin command to node `i`. */
  admin(i: number, command: unknown): Promise<unknown[]>
  /**
   * Node `i`'s Prometheus samples as `name{labels}` → value (the cluster must be created with
   * `metrics`).
   */
  metrics(i: number, options?: { signal?: AbortSignal }): Promise<Map<string, number>>
  content(i: number): Promise<NodeContent>
  /** Waits until every running node has the same content hash and no gaps; resolves with the hash. */
  waitConverged(options?: { timeoutMs?: number; nodes?: readonly number[] }): Promise<string>
  /** Stops every node (SIGTERM, then SIGKILL after a grace period). */
  stop(): Promise<void>
  /** Stops and deletes the temp directory (when the harness created it). */
  destroy(): Promise<void>
}

interface NodeState extends ClusterNode {
  child: ChildProcess | undefined
  exited: Promise<number | null> | undefined
}

/** Creates (but does not start) a cluster of `nodes` agents on 127.0.0.1. */
export async function createCluster (init: ClusterInit): Promise<Cluster> {
  const ownDir = init.baseDir === undefined
  const baseDir = init.baseDir ?? mkdtempSync(join(tmpdir(), 'patina-cluster-'))
  const [udp, tcp] = [await freePorts('udp', init.nodes), await freePorts('tcp', init.nodes * (init.metrics === true ? 2 : 1))]
  // the agent's build when current, else its sources (an explicit entry is taken as a source file)
  const launch = init.agentEntry !== undefined ? { entry: init.agentEntry, nodeArgs: SOURCE_NODE_FLAGS } : agentLaunch()
  const nodeBin = init.nodeBinary ?? process.execPath
  const schemaPath = join(baseDir, 'schema.sql')
  writeFileSync(schemaPath, init.schema ?? '')
  const nodes: NodeState[] = []
  for (let i = 0; i < init.nodes; i++) {
    const dir = join(baseDir, `n${i}`)
    mkdirSync(dir, { recursive: true })
    nodes.push({
      index: i,
      name: `n${i}`,
      dir,
      configPath: join(dir, 'patina.toml'),
      dbPath: join(dir, 'patina.db'),
      adminPath: join(dir, 'admin.sock'),
      logPath: join(dir, 'agent.log'),
      apiAddr: `127.0.0.1:${tcp[i] ?? 0}`,
      gossipAddr: `127.0.0.1:${udp[i] ?? 0}`,
      metricsAddr: init.metrics === true ? `127.0.0.1:${tcp[init.nodes + i] ?? 0}` : undefined,
      actorId: '',
      peerId: '',
      child: undefined,
      exited: undefined,
      get running () { return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null },
      get pid () { return this.child?.pid }
    })
  }
  for (const n of nodes) {
    const bootstrap = nodes.filter(o => o !== n).map(o => JSON.stringify(o.gossipAddr)).join(', ')
    writeFileSync(n.configPath, [
      '[db]', `path = ${JSON.stringify(n.dbPath)}`, `schema_paths = [${JSON.stringify(schemaPath)}]`,
      '[api]', `addr = ${JSON.stringify(n.apiAddr)}`,
      '[gossip]', `addr = ${JSON.stringify(n.gossipAddr)}`, `bootstrap = [${bootstrap}]`,
      '[admin]', `path = ${JSON.stringify(n.adminPath)}`,
      '[log]', 'format = "json"', 'colors = false',
      ...(n.metricsAddr !== undefined ? ['[telemetry]', `prometheus.addr = ${JSON.stringify(n.metricsAddr)}`] : []),
      init.extraToml ?? ''
    ].join('\n') + '\n')
  }
  const sync = init.syncIntervalMs ?? [300, 1000]
  // the launchers' environment (two malloc arenas), then the harness's own settings
  const env = { ...AGENT_ENV, ...process.env, PATINA_SWIM_PRESET: init.swimPreset ?? 'local', PATINA_SYNC_INTERVAL_MS: `${sync[0]},${sync[1]}`, ...init.env }

  // node → nodes it must not talk to (the partitions in force)
  const blocks = new Map<number, Set<number>>()

  const node = (i: number): NodeState => {
    const n = nodes[i]
    if (n === undefined) throw new RangeError(`no node ${i}`)
    return n
  }

  const startNode = async (i: number, options?: { signal?: AbortSignal }): Promise<void> => {
    const n = node(i)
    if (n.running) return
    const log = openSync(n.logPath, 'a')
    const child = spawn(nodeBin, [...(init.nodeArgs ?? AGENT_NODE_FLAGS), ...launch.nodeArgs, launch.entry, 'agent', '-c', n.configPath], { stdio: ['ignore', log, log], env, cwd: n.dir })
    closeSync(log)
    n.child = child
    n.exited = new Promise(resolve => { child.once('exit', code => { resolve(code) }) })
    const info = await waitFor(async () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`node ${n.name} exited (${child.exitCode ?? child.signalCode}); log:\n${tail(n.logPath)}`)
      const [v] = await admin(n.adminPath, 'Listening', 2000)
      return v as { actor: string; peerId: string }
    }, { timeoutMs: init.startTimeoutMs ?? 30_000, intervalMs: 100, what: `node ${n.name} to serve`, ...(options?.signal !== undefined ? { signal: options.signal } : {}) }).catch((err: unknown) => {
      if (child.exitCode !== null || child.signalCode !== null) throw err
      throw new Error(`${(err as Error).message}; log:\n${tail(n.logPath)}`)
    })
    n.actorId = info.actor
    n.peerId = info.peerId
    // A node restarted during a partition gets its side of it back.
    const blocked = [...blocks.get(i) ?? []]
    if (blocked.length > 0) await admin(n.adminPath, { Test: { Partition: { peers: blocked.flatMap(j => [node(j).actorId, node(j).peerId]).filter(x => x !== '') } } })
  }

  const kill9 = async (i: number): Promise<void> => {
    const n = node(i)
    if (!n.running) return
    n.child?.kill('SIGKILL')
    await n.exited
  }

  const stopNode = async (i: number, options?: { timeoutMs?: number }): Promise<number | null> => {
    const n = node(i)
    if (!n.running) return n.child?.exitCode ?? null
    n.child?.kill('SIGTERM')
    const timeout = new Promise<'timeout'>(resolve => { setTimeout(() => { resolve('timeout') }, options?.timeoutMs ?? 10_000).unref() })
    const r = await Promise.race([n.exited, timeout])
    if (r === 'timeout') { n.child?.kill('SIGKILL'); await n.exited; return null }
    return r ?? null
  }

  const api = async (i: number, path: string, body: unknown, signal?: AbortSignal): Promise<string> => {
    const res = await postJson(node(i).apiAddr, path, body, signal)
    if (res.status < 200 || res.status >= 300) throw new Error(`node ${i} ${path}: ${res.status} ${res.text}`)
    return res.text
  }

  const content = async (i: number): Promise<NodeContent> => {
    const [v] = await admin(node(i).adminPath, 'ContentHash')
    return v as NodeContent
  }

  const cluster: Cluster = {
    baseDir,
    nodes,
    async start (options) {
      // The first node starts alone; the rest start in parallel and bootstrap to everyone.
      await startNode(0, options)
      await Promise.all(nodes.slice(1).map(async n => { await startNode(n.index, options) }))
    },
    startNode,
    kill9,
    stopNode,
    async restart (i) {
      await kill9(i)
      await startNode(i)
    },
    async partition (groupA, groupB) {
      for (const [from, to] of [[groupA, groupB], [groupB, groupA]] as const) {
        for (const i of from) {
          const set = blocks.get(i) ?? new Set<number>()
          for (const j of to) set.add(j)
          blocks.set(i, set)
        }
      }
      const ids = (g: readonly number[]): string[] => g.flatMap(i => [node(i).actorId, node(i).peerId])
      // Nodes that are down are skipped now and get their side when they start again.
      await Promise.all([
        ...groupA.filter(i => node(i).running).map(async i => await admin(node(i).adminPath, { Test: { Partition: { peers: ids(groupB) } } })),
        ...groupB.filter(i => node(i).running).map(async i => await admin(node(i).adminPath, { Test: { Partition: { peers: ids(groupA) } } }))
      ])
    },
    async heal () {
      blocks.clear()
      await Promise.all(nodes.filter(n => n.running).map(async n => await admin(n.adminPath, { Test: 'Heal' })))
    },
    async exec (i, statements, options) {
      return JSON.parse(await api(i, '/v1/transactions', statements, options?.signal)) as { results: Array<{ rows_affected?: number; error?: string }>; version?: number | null }
    },
    async query (i, statement, options) {
      const text = await api(i, '/v1/queries', statement, options?.signal)
      const rows: unknown[][] = []
      for (const line of text.split('\n')) {
        if (line.trim() === '') continue
        const ev = JSON.parse(line) as Record<string, unknown>
        if (ev.row !== undefined) rows.push((ev.row as [number, unknown[]])[1])
        if (ev.error !== undefined) throw new Error(`node ${i} query: ${String(ev.error)}`)
      }
      return rows
    },
    admin: async (i, command) => await admin(node(i).adminPath, command),
    async metrics (i, options) {
      const addr = node(i).metricsAddr
      if (addr === undefined) throw new Error('the cluster was created without metrics')
      return parsePrometheus(await getText(addr, '/metrics', options?.signal))
    },
    content,
    async waitConverged (options) {
      const which = options?.nodes ?? nodes.filter(n => n.running).map(n => n.index)
      return await waitFor(async () => {
        // Cheap first: every node reports the same per-actor heads with no gaps or partial versions.
        // Only then hash the content (which reads every row) to confirm.
        const states = await Promise.all(which.map(async i => syncFingerprint((await admin(node(i).adminPath, { Sync: 'Generate' }))[0])))
        if (states.some(s => s === undefined || s !== states[0])) return undefined
        const hashes = await Promise.all(which.map(async i => await content(i)))
        const first = hashes[0]?.hash
        if (first === undefined) return undefined
        return hashes.every(h => h.hash === first) ? first : undefined
      }, { timeoutMs: options?.timeoutMs ?? 60_000, intervalMs: 50, what: 'every node to reach the same content' })
    },
    async stop () {
      await Promise.all(nodes.map(async n => await stopNode(n.index, { timeoutMs: 5000 })))
    },
    async destroy () {
      await cluster.stop()
      if (ownDir) rmSync(baseDir, { recursive: true, force: true })
    }
  }
  return cluster
}

/** The last lines of a log file, for error messages. */
export function tail (path: string, lines = 30): string {
  if (!existsSync(path)) return '(no log)'
  return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n')
}

/**
 * A node's replication state as one string (actor → head), or undefined while it has gaps or partial
 * versions. Equal fingerprints mean the same versions applied everywhere.
 */
function syncFingerprint (status: unknown): string | undefined {
  if (!Array.isArray(status)) return undefined
  const heads: string[] = []
  for (const a of status as Array<{ actor?: unknown; head?: unknown; gaps?: unknown; partials?: unknown }>) {
    if (Array.isArray(a.gaps) && a.gaps.length > 0) return undefined
    if (Array.isArray(a.partials) && a.partials.length > 0) return undefined
    heads.push(`${String(a.actor)}:${String(a.head)}`)
  }
  return heads.sort().join(',')
}

import type { SwimConfig } from '../config.ts'
import { SwimCore } from '../swim-core.ts'
import type { MemberState, Notification, Runtime, Timer } from '../types.ts'
import { EventQueue } from './event-queue.ts'
import { seededRandom } from './random.ts'

/** Network behaviour of a simulation. */
export interface SimNetworkInit {
  /** One-way latency is uniform in [min, max] ms (different per packet, so packets reorder). */
  latency?: { min: number, max: number }
  /** Probability that a packet is lost. */
  loss?: number
  /** Probability that a packet is delivered twice. */
  duplicate?: number
}

/** Options of a simulation. */
export interface SimulationInit {
  seed: number
  /** Members created up front (ids `n0`, `n1`, …; addresses `10.0.0.i:7946`). */
  size: number
  config: SwimConfig
  network?: SimNetworkInit
  /** `full`: every member starts knowing every other (a persisted view); `join`: all announce to n0. */
  bootstrap?: 'full' | 'join'
  /** Members start at a uniformly random time in [0, startSpread) ms. */
  startSpread?: number
  /** Called for every notification (detection-time measurements). */
  onNotify?: (node: number, n: Notification, at: number) => void
}

type SimEvent =
  | { kind: 'timer', node: number, life: number, timer: Timer }
  | { kind: 'packet', node: number, life: number, bytes: Uint8Array, from: string }
  | { kind: 'start', node: number, life: number }

/** One simulated member. */
export interface SimNode {
  index: number
  id: string
  addr: string
  core: SwimCore
  /** False once crashed (until restarted). */
  up: boolean
  /** Incremented on crash/restart, so events of a previous life are dropped. */
  life: number
  /** CPU starvation: inbound packets and timers are delayed by U(0, starve) ms. */
  starve: number
  bytesSent: number
  bytesReceived: number
  packetsSent: number
  packetsReceived: number
  runtime: Runtime
}

/**
 * A deterministic discrete-event simulation of N SWIM cores on virtual time with a seeded network
 * (latency, loss, duplication, reordering, partitions), crashes, restarts and CPU-starved members.
 * Same seed and same calls give an identical trace (`traceHash`).
 */
export class Simulation {
  readonly seed: number
  readonly nodes: SimNode[] = []
  now = 0
  /** Events processed. */
  steps = 0
  /** Errors thrown by cores on received packets (should stay 0 in a healthy run). */
  packetErrors = 0
  private readonly queue = new EventQueue<SimEvent>()
  private readonly byAddr = new Map<string, number>()
  private readonly rng: ReturnType<typeof seededRandom>
  private readonly config: SwimConfig
  private network: Required<SimNetworkInit>
  private groups: Map<number, number> | undefined
  private readonly deaf = new Set<number>()
  private trace = 0x811c9dc5
  private readonly onNotify: SimulationInit['onNotify']

  constructor (init: SimulationInit) {
    this.seed = init.seed
    this.rng = seededRandom(init.seed)
    this.config = init.config
    this.network = { latency: { min: 0.2, max: 2 }, loss: 0, duplicate: 0, ...init.network }
    this.onNotify = init.onNotify
    for (let i = 0; i < init.size; i++) this.addNode()
    const spread = init.startSpread ?? 0
    const bootstrap = init.bootstrap ?? 'join'
    for (const node of this.nodes) {
      if (bootstrap === 'full') {
        node.core.applyMembers(this.nodes.filter(o => o !== node).map(o => ({ ...o.core.self() })), node.runtime)
      }
      this.queue.push(spread > 0 && node.index !== 0 ? this.rng.next() * spread : 0, { kind: 'start', node: node.index, life: node.life })
    }
  }

  /** Adds a member (not started: call `restart` to start it). */
  addNode (): SimNode {
    const index = this.nodes.length
    const id = `n${index}`
    const addr = `10.0.${index >> 8}.${index & 255}:7946`
    const node: SimNode = {
      index, id, addr, core: undefined as unknown as SwimCore, up: false, life: 0, starve: 0,
      bytesSent: 0, bytesReceived: 0, packetsSent: 0, packetsReceived: 0, runtime: undefined as unknown as Runtime
    }
    this.nodes.push(node)
    this.byAddr.set(addr, index)
    this.makeCore(node)
    return node
  }

  private makeCore (node: SimNode): void {
    const clock = { now: () => this.now }
    const random = seededRandom((this.seed * 7919 + node.index * 104729 + node.life * 31) | 0)
    node.core = new SwimCore({ identity: { id: node.id, addr: node.addr, meta: new TextEncoder().encode(`meta-${node.id}`) }, config: this.config, clock, random, generation: Math.floor(this.now) + 1 })
    const life = node.life
    node.runtime = {
      send: (addr, bytes) => { this.transmit(node, addr, bytes) },
      schedule: (timer, afterMs) => {
        const late = node.starve > 0 ? this.rng.next() * node.starve : 0
        this.queue.push(this.now + afterMs + late, { kind: 'timer', node: node.index, life, timer })
      },
      notify: (n) => { this.onNotify?.(node.index, n, this.now) }
    }
  }

  private transmit (from: SimNode, addr: string, bytes: Uint8Array): void {
    from.bytesSent += bytes.length
    from.packetsSent++
    const to = this.byAddr.get(addr)
    if (to === undefined) return
    if (this.groups !== undefined && this.groups.get(from.index) !== this.groups.get(to)) return
    if (this.deaf.has(to)) return
    const { latency, loss, duplicate } = this.network
    if (loss > 0 && this.rng.next() < loss) return
    const copies = duplicate > 0 && this.rng.next() < duplicate ? 2 : 1
    const target = this.nodes[to]!
    for (let c = 0; c < copies; c++) {
      let at = this.now + latency.min + this.rng.next() * (latency.max - latency.min)
      if (target.starve > 0) at += this.rng.next() * target.starve
      this.queue.push(at, { kind: 'packet', node: to, life: target.life, bytes, from: from.addr })
    }
  }

  /** Runs until virtual time `until` (ms). */
  runUntil (until: number): void {
    for (;;) {
      const at = this.queue.peekAt()
      if (at === undefined || at > until) break
      this.step()
    }
    this.now = Math.max(this.now, until)
  }

  /** Runs for `ms` more virtual milliseconds. */
  run (ms: number): void {
    this.runUntil(this.now + ms)
  }

  /**
   * Runs until `done()` holds (checked every `checkEvery` virtual ms) or `timeout` virtual ms pass;
   * returns the virtual time it took, or undefined on timeout.
   */
  runUntilTrue (done: () => boolean, timeout: number, checkEvery = 100): number | undefined {
    const start = this.now
    while (this.now - start < timeout) {
      if (done()) return this.now - start
      this.run(checkEvery)
    }
    return done() ? this.now - start : undefined
  }

  private step (): void {
    const ev = this.queue.pop()
    if (ev === undefined) return
    this.now = ev.at
    const e = ev.value
    const node = this.nodes[e.node]!
    if (e.life !== node.life) return
    this.steps++
    this.trace = mixTrace(this.trace, ev.at, e.node, e.kind === 'packet' ? e.bytes.length : e.kind === 'timer' ? e.timer.type.length : 0)
    if (e.kind === 'start') {
      node.up = true
      node.core.start(node.runtime)
      if (e.node !== 0 && node.core.liveCount() === 1) node.core.join([this.nodes[0]!.addr], node.runtime)
      return
    }
    if (!node.up) return
    if (e.kind === 'timer') {
      node.core.handleTimer(e.timer, node.runtime)
    } else {
      node.bytesReceived += e.bytes.length
      node.packetsReceived++
      try {
        node.core.handleData(e.bytes, node.runtime)
      } catch {
        this.packetErrors++
      }
    }
  }

  /** A hash of every processed event: equal for equal seeds and calls. */
  traceHash (): string {
    return this.trace.toString(16).padStart(8, '0')
  }

  /** Stops a member without a goodbye (its pending events are dropped). */
  crash (i: number): void {
    const node = this.nodes[i]!
    node.up = false
    node.life++
  }

  /**
   * Restarts a member with the same id (or a new one with `newId`) and a new generation (a fresh
   * process without persisted state), announcing to `seeds` (default: three random live members).
   */
  restart (i: number, seeds?: string[], options: { newId?: boolean } = {}): void {
    const node = this.nodes[i]!
    node.life++
    // a fresh identity on the same address (a process without persisted id)
    if (options.newId === true) node.id = `n${i}-r${node.life}`
    node.up = true
    this.makeCore(node)
    node.core.start(node.runtime)
    const others = this.nodes.filter(n => n.up && n.index !== i)
    const chosen = seeds ?? pick(others, 3, this.rng).map(n => n.addr)
    node.core.join(chosen, node.runtime)
  }

  /** Graceful leave of a member (it keeps running to disseminate the leave). */
  leave (i: number): void {
    const node = this.nodes[i]!
    node.core.leave(node.runtime)
  }

  /** Splits the network: members in different groups cannot reach each other. */
  partition (groups: number[][]): void {
    this.groups = new Map()
    groups.forEach((g, gi) => { for (const i of g) this.groups!.set(i, gi) })
  }

  /** One-way failure: member i can still send but receives nothing (or recovers with `false`). */
  setDeaf (i: number, deaf: boolean): void {
    if (deaf) this.deaf.add(i)
    else this.deaf.delete(i)
  }

  /** Removes every partition. */
  heal (): void {
    this.groups = undefined
  }

  /** Changes the network behaviour from now on. */
  setNetwork (network: SimNetworkInit): void {
    this.network = { ...this.network, ...network }
  }

  /** The state member `observer` holds for member `subject` (undefined when unknown). */
  stateOf (observer: number, subject: number): MemberState | undefined {
    const o = this.nodes[observer]!
    if (observer === subject) return o.core.self().state
    return o.core.member(this.nodes[subject]!.id)?.state
  }

  /** Indices of members that are up. */
  upNodes (): number[] {
    return this.nodes.filter(n => n.up).map(n => n.index)
  }

  /**
   * Whether every up member sees exactly the up members as alive/suspect (and every other as
   * down/left/unknown): one converged view with no ghosts.
   */
  converged (): boolean {
    const up = this.upNodes()
    const upIds = new Set(up.map(i => this.nodes[i]!.id))
    for (const i of up) {
      const core = this.nodes[i]!.core
      let live = 1
      for (const m of core.members()) {
        const isLive = m.state === 'alive' || m.state === 'suspect'
        if (isLive) live++
        if (isLive !== upIds.has(m.id)) return false
      }
      if (live !== up.length) return false
    }
    return true
  }

  /** Number of members `observer` holds alive or suspect, itself included. */
  liveSeenBy (observer: number): number {
    return this.nodes[observer]!.core.liveCount()
  }

  /** The seeded RNG of the simulation (for choosing victims reproducibly). */
  random (): ReturnType<typeof seededRandom> {
    return this.rng
  }
}

function pick<T> (arr: readonly T[], k: number, rng: { int: (n: number) => number }): T[] {
  const copy = [...arr]
  const out: T[] = []
  while (out.length < k && copy.length > 0) out.push(copy.splice(rng.int(copy.length), 1)[0]!)
  return out
}

function mixTrace (h: number, at: number, node: number, x: number): number {
  h = Math.imul(h ^ (Math.floor(at * 1000) >>> 0), 0x01000193) >>> 0
  h = Math.imul(h ^ node, 0x01000193) >>> 0
  return Math.imul(h ^ x, 0x01000193) >>> 0
}

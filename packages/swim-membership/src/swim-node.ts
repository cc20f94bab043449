import { resolveConfig } from './config.ts'
import type { SwimConfig, SwimConfigInput } from './config.ts'
import { AbortError, InvalidConfigError, NotStartedError } from './errors.ts'
import { SwimCore } from './swim-core.ts'
import { validateIdentity } from './member-info.ts'
import { typedEventTarget } from './typed-event-target.ts'
import type { TypedEventTarget } from './typed-event-target.ts'
import { createUdpTransport } from './udp-transport.ts'
import type { PacketTransport } from './udp-transport.ts'
import type { AbortOptions, Clock, MemberInfo, Notification, Random, Runtime, Timer } from './types.ts'

/** A minimal logger; the agent passes pino child loggers. */
export interface SwimLogger {
  debug: (obj: object, msg?: string) => void
  info: (obj: object, msg?: string) => void
  warn: (obj: object, msg?: string) => void
}

/** The identity as given to `createSwim`: `addr` may be left out when `bind` is used. */
export interface SwimIdentityInit {
  id: string
  addr?: string
  meta?: Uint8Array
}

/** Options of `createSwim`. */
export interface SwimInit {
  identity: SwimIdentityInit
  /** "host:port" to bind the built-in UDP transport. Exactly one of `bind` and `transport`. */
  bind?: string
  /** A datagram transport (e.g. over libp2p streams); its `close` is called by `stop`. */
  transport?: PacketTransport
  /** Bare addresses announced to on start. */
  seeds?: string[]
  /** A preset name or a partial config over `lan`. */
  config?: SwimConfigInput
  /** Renewal stamp; default the wall clock in ms so a restart supersedes its previous life. */
  generation?: number
  clock?: Clock
  random?: Random
  logger?: SwimLogger
}

/** Events of a running member. */
export interface SwimEvents {
  [key: string]: Event
  'member:up': CustomEvent<MemberInfo>
  'member:down': CustomEvent<MemberInfo>
  'member:left': CustomEvent<MemberInfo>
  'member:updated': CustomEvent<MemberInfo>
  'member:suspect': CustomEvent<MemberInfo>
  'broadcast': CustomEvent<{ key: string, payload: Uint8Array }>
  'packet:error': CustomEvent<{ error: Error, from: string }>
}

/** A running SWIM member: the core on real timers over a transport. */
export interface SwimNode extends TypedEventTarget<SwimEvents> {
  /** This member's id. */
  readonly id: string
  /** The advertised address (known after `start` when binding port 0). */
  readonly addr: string
  /** The resolved configuration (preset plus overrides). */
  readonly config: SwimConfig
  /** Packets rejected by the core (malformed, other cluster). */
  readonly packetErrors: number
  /** Binds the transport (with `bind`), starts the timers and announces to the seeds. */
  start: (options?: AbortOptions) => Promise<void>
  /** Stops at once without leaving (peers will find this member down); closes the transport. */
  stop: (options?: AbortOptions) => Promise<void>
  /** Leaves gracefully; resolves once the leave was disseminated or `leaveTimeout` elapsed. */
  leave: (options?: AbortOptions) => Promise<void>
  /** Comes back after a leave (or a false death) with a newer generation. */
  rejoin: () => void
  /** Announces to bare addresses (ids not needed); they are kept as seeds. */
  join: (addrs: string[], options?: AbortOptions) => Promise<void>
  /** Every other member known, with its state. */
  members: () => MemberInfo[]
  /** This member as peers see it. */
  self: () => MemberInfo
  /** Replaces this member's metadata and gossips it (incarnation + 1). */
  updateMeta: (meta: Uint8Array) => void
  /** Piggybacks a small user broadcast on SWIM traffic (delivered once per key as `broadcast`). */
  broadcast: (key: string, payload: Uint8Array) => void
  /** Lifeguard local health multiplier score (0 = healthy). */
  localHealth: () => number
}

const eventNames = {
  'member-up': 'member:up',
  'member-down': 'member:down',
  'member-left': 'member:left',
  'member-updated': 'member:updated',
  'member-suspect': 'member:suspect'
} as const

/**
 * Creates a SWIM member. With `bind` it owns a UDP socket; with `transport` it runs over the given
 * channel. Nothing happens until `start()`.
 */
export function createSwim (init: SwimInit): SwimNode {
  const config = resolveConfig(init.config)
  if ((init.bind === undefined) === (init.transport === undefined)) throw new InvalidConfigError('createSwim needs exactly one of `bind` and `transport`')
  if (init.bind === undefined && init.identity.addr === undefined) throw new InvalidConfigError('identity.addr is required with a custom transport')
  validateIdentity(init.identity.id, init.identity.addr ?? 'pending', init.identity.meta ?? new Uint8Array(0), config.maxMetaSize)
  const clock: Clock = init.clock ?? { now: () => performance.now() }
  const random: Random = init.random ?? { next: Math.random }
  const events = typedEventTarget<SwimEvents>()
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const leaveWaiters = new Set<() => void>()
  let pending: Notification[] = []
  let transport: PacketTransport | undefined = init.transport
  let core: SwimCore | undefined
  let unsubscribe: (() => void) | undefined
  let addr = init.identity.addr ?? ''
  let packetErrors = 0
  let state: 'new' | 'started' | 'stopped' = 'new'

  const runtime: Runtime = {
    send (to, bytes) {
      try {
        transport?.send(to, bytes)
      } catch (err) {
        init.logger?.warn({ err, to }, 'swim send failed')
      }
    },
    schedule (timer: Timer, afterMs: number) {
      if (state !== 'started') return
      const handle = setTimeout(() => {
        timers.delete(handle)
        if (state !== 'started' || core === undefined) return
        const c = core
        run(() => { c.handleTimer(timer, runtime) })
      }, Math.max(0, afterMs))
      timers.add(handle)
    },
    notify (n: Notification) {
      // delivered after the core call returns, so listeners never run in the middle of a merge
      pending.push(n)
    }
  }

  const deliver = (n: Notification): void => {
    switch (n.type) {
      case 'leave-disseminated':
        for (const w of [...leaveWaiters]) w()
        return
      case 'broadcast':
        events.dispatchEvent(new CustomEvent('broadcast', { detail: { key: n.key, payload: n.payload } }))
        return
      case 'refuted':
        init.logger?.info({ incarnation: n.incarnation }, 'refuted a suspicion about this member')
        return
      default:
        events.dispatchEvent(new CustomEvent(eventNames[n.type], { detail: n.member }))
    }
  }

  /** Runs one core call, then delivers the notifications it produced. */
  const run = <T>(fn: () => T): T => {
    try {
      return fn()
    } finally {
      const batch = pending
      pending = []
      for (const n of batch) deliver(n)
    }
  }

  const need = (): SwimCore => {
    if (core === undefined || state !== 'started') throw new NotStartedError()
    return core
  }

  const node: SwimNode = Object.assign(events, {
    id: init.identity.id,
    addr: '',
    config,
    packetErrors: 0,

    async start (options?: AbortOptions): Promise<void> {
      options?.signal?.throwIfAborted()
      if (state === 'started') return
      if (state === 'stopped') throw new NotStartedError('A stopped swim node cannot be started again; create a new one')
      if (init.bind !== undefined) {
        const udp = await createUdpTransport(init.bind, options)
        transport = udp
        if (addr === '') addr = udp.address
      }
      core = new SwimCore({ identity: { id: init.identity.id, addr, ...(init.identity.meta !== undefined ? { meta: init.identity.meta } : {}) }, config, clock, random, generation: init.generation ?? Date.now() })
      const c = core
      unsubscribe = transport!.onPacket((bytes, from) => {
        if (state !== 'started') return
        try {
          run(() => { c.handleData(bytes, runtime) })
        } catch (err) {
          packetErrors++
          const error = err instanceof Error ? err : new Error(String(err))
          init.logger?.debug({ err: error, from }, 'dropped packet')
          events.dispatchEvent(new CustomEvent('packet:error', { detail: { error, from } }))
        }
      })
      state = 'started'
      run(() => {
        c.start(runtime)
        if (init.seeds !== undefined && init.seeds.length > 0) c.join(init.seeds, runtime)
      })
    },

    async stop (options?: AbortOptions): Promise<void> {
      options?.signal?.throwIfAborted()
      if (state === 'stopped') return
      state = 'stopped'
      for (const t of timers) clearTimeout(t)
      timers.clear()
      unsubscribe?.()
      transport?.close?.()
      for (const w of leaveWaiters) w()
    },

    async leave (options?: AbortOptions): Promise<void> {
      const c = need()
      options?.signal?.throwIfAborted()
      if (c.self().state === 'left') return
      await new Promise<void>((resolve, reject) => {
        const done = (): void => {
          clearTimeout(cap)
          leaveWaiters.delete(done)
          options?.signal?.removeEventListener('abort', onAbort)
          resolve()
        }
        const onAbort = (): void => {
          clearTimeout(cap)
          leaveWaiters.delete(done)
          reject(new AbortError('leave aborted'))
        }
        const cap = setTimeout(done, config.leaveTimeout)
        leaveWaiters.add(done)
        options?.signal?.addEventListener('abort', onAbort, { once: true })
        run(() => { c.leave(runtime) })
      })
    },

    rejoin (): void {
      const c = need()
      run(() => { c.rejoin(runtime) })
    },

    async join (addrs: string[], options?: AbortOptions): Promise<void> {
      options?.signal?.throwIfAborted()
      const c = need()
      run(() => { c.join(addrs, runtime) })
    },

    members: (): MemberInfo[] => core?.members() ?? [],
    self: (): MemberInfo => core?.self() ?? { id: init.identity.id, addr, meta: init.identity.meta ?? new Uint8Array(0), incarnation: 0, generation: 0, state: 'alive' },
    updateMeta (meta: Uint8Array): void {
      const c = need()
      run(() => { c.updateMeta(meta, runtime) })
    },
    broadcast (key: string, payload: Uint8Array): void {
      need().addBroadcast(key, payload)
    },
    localHealth: (): number => core?.localHealth() ?? 0
  })
  // Object.assign copies getter values, so the live properties are defined afterwards
  Object.defineProperty(node, 'addr', { get: () => addr, enumerable: true })
  Object.defineProperty(node, 'packetErrors', { get: () => packetErrors, enumerable: true })
  return node
}

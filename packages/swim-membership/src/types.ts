/** Shared types of the core, the driver and the simulator. */

/** Options for any async call. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A source of time in milliseconds (monotonic enough for timeouts). */
export interface Clock {
  now: () => number
}

/** A source of uniform random numbers in [0, 1). */
export interface Random {
  next: () => number
}

/**
 * Who a member is, as supplied by the user. `id` is opaque and stable across restarts (the agent
 * uses its actor id); `addr` is opaque to the core (UDP driver: "host:port"; agent: a multiaddr).
 */
export interface Identity {
  id: string
  addr: string
  /** Opaque metadata (actor id, peer id, addresses…), at most `config.maxMetaSize` bytes. */
  meta?: Uint8Array
}

/** Member states as the string-literal list used for validation and wire codes. Order is precedence. */
export const MEMBER_STATES = ['alive', 'suspect', 'down', 'left'] as const

/** The state of a member in a local view. */
export type MemberState = typeof MEMBER_STATES[number]

/** A member as a view knows it. */
export interface MemberInfo {
  id: string
  addr: string
  meta: Uint8Array
  /** Raised only by the member itself, to refute a suspicion or announce a change. */
  incarnation: number
  /** Renewal stamp: a restarted or rejoined member has a larger one and supersedes its old self. */
  generation: number
  state: MemberState
}

/**
 * Timer events the core asks the runtime to deliver later. Stale, late or reordered timers are
 * recognised by their token and ignored.
 */
export type Timer =
  | { type: 'probe', token: number }
  | { type: 'probe-timeout', token: number }
  | { type: 'relay-timeout', seq: number }
  | { type: 'suspicion', id: string, token: number }
  | { type: 'gossip', token: number }
  | { type: 'announce', token: number }
  | { type: 'announce-down', token: number }
  | { type: 'reap', token: number }

/** What the core reports to its host. */
export type Notification =
  | { type: 'member-up' | 'member-down' | 'member-left' | 'member-updated', member: MemberInfo }
  /** `from`: the member whose failed probe started the suspicion. */
  | { type: 'member-suspect', member: MemberInfo, from: string }
  | { type: 'broadcast', key: string, payload: Uint8Array }
  | { type: 'refuted', incarnation: number }
  | { type: 'leave-disseminated' }

/** The three effects a core can have on the world; the host implements them. */
export interface Runtime {
  send: (addr: string, bytes: Uint8Array) => void
  schedule: (timer: Timer, afterMs: number) => void
  notify: (notification: Notification) => void
}

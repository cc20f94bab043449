import { sample } from './sample.ts'

/** A peer as the scheduler sees it. */
export interface PeerView {
  id: string
  /** Smoothed round-trip time, when known. */
  rttMs?: number | undefined
}

/** One payload to hand to one peer. */
export interface ScheduledSend {
  peer: string
  key: string
  payload: Uint8Array
  /** Peers known to hold the item after this round (shared by the round's sends; capped). */
  holders: readonly string[]
}

/** Most holders passed along with a send. */
export const MAX_HOLDER_HINT = 16

/** Options of {@link BroadcastScheduler}. */
export interface BroadcastSchedulerInit {
  /** Transmit budget multiplier: each node sends an item at most `ceil(lambda·log10(N+1))` times. */
  lambda: number
  /** Peers per round (the first round picks the nearest RTT ring first). */
  fanout: number
  /** Round `r` is re-sent `r × resendIntervalMs` after the previous one. */
  resendIntervalMs: number
  /** Items held at most; past it the most-sent item is dropped. */
  maxQueue: number
  /** Uniform [0, 1) randomness. */
  random: () => number
  /**
   * Direct sends in small clusters: while there are at most this many peers, an item this node
   * originated goes in its first round to every peer, one hop, instead of starting an epidemic
   * (which costs about `budget` receptions per node per item). The round's holder hint then names
   * every peer, so receivers have no one left to relay to. 0 disables. Default 0.
   */
  directMax?: number
  /**
   * Skip the remaining re-send rounds of an item once this many duplicates of it arrived (it is
   * evidently well spread: rumor mongering with feedback). 0 disables. Default 0.
   */
  stopAfterDuplicates?: number
}

interface Item {
  key: string
  payload: Uint8Array
  holders: Set<string>
  sent: number
  rounds: number
  nextAt: number
  live: boolean
  dups: number
  /** Sends allowed for a re-queued item (else the transmit budget). */
  cap: number | undefined
  /** Originated by this node (not relayed, not re-queued). */
  own: boolean
}

// RTT rings in ms (as Corrosion's members.rs): peers in a lower ring are tried first.
const RINGS = [6, 15, 50, 100, 200, 300]

function ringOf (rtt: number | undefined): number {
  if (rtt == null) return RINGS.length
  for (let i = 0; i < RINGS.length; i++) if (rtt < (RINGS[i] ?? Infinity)) return i
  return RINGS.length
}

// The most recent holders: this round's picks and whoever sent us the item last.
function hintOf (holders: Set<string>): string[] {
  const all = [...holders]
  return all.length <= MAX_HOLDER_HINT ? all : all.slice(all.length - MAX_HOLDER_HINT)
}

/** Transmit budget for a cluster of `n` nodes (self included). */
export function transmitBudget (lambda: number, n: number): number {
  return Math.max(1, Math.ceil(lambda * Math.log10(n + 1)))
}

/**
 * Pure scheduling core of the broadcast layer: which payload goes to which peer, when. Time, the
 * peer set and randomness are inputs; the caller does the I/O.
 */
export class BroadcastScheduler {
  readonly #init: BroadcastSchedulerInit
  readonly #heap: Item[] = []
  readonly #byKey = new Map<string, Item>()

  constructor (init: BroadcastSchedulerInit) {
    this.#init = init
  }

  /** Items waiting for a (re-)send. */
  get size (): number {
    return this.#byKey.size
  }

  /**
   * Queue `payload` for sending now. `holders` are peers known to have it already (e.g. the one
   * we got it from); `own` marks a payload this node originated (see `directMax`). Returns the
   * number of items dropped to stay under `maxQueue`.
   */
  enqueue (key: string, payload: Uint8Array, now: number, holders: Iterable<string> = [], own = false): number {
    const existing = this.#byKey.get(key)
    if (existing != null) {
      for (const h of holders) existing.holders.add(h)
      return 0
    }
    let dropped = 0
    while (this.#byKey.size >= this.#init.maxQueue && this.#dropMostSent()) dropped++
    const item: Item = { key, payload, holders: new Set(holders), sent: 0, rounds: 0, nextAt: now, live: true, dups: 0, cap: undefined, own }
    this.#byKey.set(key, item)
    this.#push(item)
    return dropped
  }

  /**
   * A send of `key` to `peer` was dropped (peer unreachable or congested): give that send back, to
   * be spent on another peer at `dueAt`. `peer` stays excluded. Never adds more than the one send.
   */
  retry (key: string, payload: Uint8Array, peer: string, dueAt: number): number {
    const existing = this.#byKey.get(key)
    if (existing != null) {
      existing.holders.add(peer)
      if (existing.cap != null) existing.cap++
      else existing.sent = Math.max(0, existing.sent - 1)
      return 0
    }
    const dropped = this.enqueue(key, payload, dueAt, [peer])
    const item = this.#byKey.get(key)
    if (item != null) {
      item.cap = 1
      item.rounds = 1 // not a first round: random peers, not the nearest
    }
    return dropped
  }

  /** Record that `peer` has `key` (it sent it to us, or a hint said so), so it is not picked again. */
  noteHolder (key: string, peer: string): void {
    this.#byKey.get(key)?.holders.add(peer)
  }

  /** Record that a duplicate of `key` arrived (feedback for `stopAfterDuplicates`). */
  noteDuplicate (key: string): void {
    const item = this.#byKey.get(key)
    if (item != null) item.dups++
  }

  /** When the next item falls due, or `undefined` when idle. */
  nextDueAt (): number | undefined {
    this.#skipDead()
    return this.#heap[0]?.nextAt
  }

  /**
   * Every send due at `now`, spending at most `byteBudget` payload bytes (at least one item is
   * always let through so a huge payload can't stall the queue). `blocked` is true when due items
   * remain because the byte budget ran out.
   */
  take (now: number, peers: readonly PeerView[], byteBudget = Infinity): { sends: ScheduledSend[], blocked: boolean } {
    const sends: ScheduledSend[] = []
    const budget = transmitBudget(this.#init.lambda, peers.length + 1)
    let bytes = 0
    while (true) {
      this.#skipDead()
      const item = this.#heap[0]
      if (item == null || item.nextAt > now) return { sends, blocked: false }
      const stop = this.#init.stopAfterDuplicates ?? 0
      if (item.rounds > 0 && stop > 0 && item.dups >= stop) {
        this.#pop()
        this.#forget(item)
        continue
      }
      const fresh = peers.filter((p) => !item.holders.has(p.id))
      const direct = item.own && item.rounds === 0 && peers.length <= (this.#init.directMax ?? 0)
      const limit = direct ? fresh.length : item.cap != null ? Math.min(item.cap, budget) : budget
      const count = direct ? fresh.length : Math.min(this.#init.fanout, limit - item.sent, fresh.length)
      const cost = item.payload.byteLength * Math.max(count, 0)
      if (sends.length > 0 && bytes + cost > byteBudget) return { sends, blocked: true }
      this.#pop()
      if (count <= 0) {
        this.#forget(item)
        continue
      }
      bytes += cost
      const chosen = item.rounds === 0 ? this.#nearestFirst(fresh, count) : this.#sample(fresh, count)
      for (const p of chosen) item.holders.add(p.id)
      const holders = hintOf(item.holders)
      for (const p of chosen) sends.push({ peer: p.id, key: item.key, payload: item.payload, holders })
      item.sent += chosen.length
      item.rounds++
      if (item.sent >= limit || fresh.length <= chosen.length) {
        this.#forget(item)
      } else {
        item.nextAt = now + this.#init.resendIntervalMs * item.rounds
        this.#push(item)
      }
    }
  }

  /** Drop everything (on stop). */
  clear (): void {
    this.#heap.length = 0
    this.#byKey.clear()
  }

  #forget (item: Item): void {
    item.live = false
    this.#byKey.delete(item.key)
  }

  #dropMostSent (): boolean {
    let worst: Item | undefined
    for (const item of this.#byKey.values()) {
      if (worst == null || item.sent > worst.sent) worst = item
    }
    if (worst == null) return false
    this.#forget(worst)
    return true
  }

  #nearestFirst (peers: PeerView[], count: number): PeerView[] {
    // common case: the nearest ring alone has enough peers (often all peers share one ring)
    let best = Infinity
    for (const p of peers) best = Math.min(best, ringOf(p.rttMs))
    const nearest = peers.filter((p) => ringOf(p.rttMs) === best)
    if (nearest.length >= count) return this.#sample(nearest, count)
    // all of the nearest ring, then the next rings in order, random within a ring (so equally
    // near peers share the load and the graph stays random)
    const out = nearest
    for (let r = best + 1; r <= RINGS.length && out.length < count; r++) {
      const ring = peers.filter((p) => ringOf(p.rttMs) === r)
      if (ring.length > 0) out.push(...this.#sample(ring, count - out.length))
    }
    return out
  }

  #sample (peers: PeerView[], count: number): PeerView[] {
    // all of them: keep their order (no randomness spent)
    if (count >= peers.length) return peers.slice()
    return sample(peers, count, this.#init.random)
  }

  #skipDead (): void {
    while (this.#heap.length > 0 && this.#heap[0]?.live !== true) this.#pop()
  }

  #push (item: Item): void {
    const h = this.#heap
    h.push(item)
    let i = h.length - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      if ((h[parent] as Item).nextAt <= item.nextAt) break
      h[i] = h[parent] as Item
      i = parent
    }
    h[i] = item
  }

  #pop (): Item | undefined {
    const h = this.#heap
    const top = h[0]
    const last = h.pop()
    if (h.length > 0 && last != null) {
      let i = 0
      while (true) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        let best = last.nextAt
        if (l < h.length && (h[l] as Item).nextAt < best) { m = l; best = (h[l] as Item).nextAt }
        if (r < h.length && (h[r] as Item).nextAt < best) { m = r }
        if (m === i) break
        h[i] = h[m] as Item
        i = m
      }
      h[i] = last
    }
    return top
  }
}

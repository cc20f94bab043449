import type { MemberInfo, MemberState, Random } from './types.ts'

/** A member record with the bookkeeping the core needs. */
export interface MemberRecord extends MemberInfo {
  /** Clock time of the last state change (for forgetting down members and gossip to the dead). */
  changedAt: number
  /** Cached encoded update of the current state (cleared on change). */
  encoded: Uint8Array | undefined
  /** Cached hash of the id, for the view digest. */
  idHash: number
  /** Position in the sampling array. */
  slot: number
}

const rank: Record<MemberState, number> = { alive: 0, suspect: 1, down: 2, left: 3 }

/** Precedence rank of a state at equal (generation, incarnation). */
export function stateRank (state: MemberState): number {
  return rank[state]
}

/**
 * Whether an update at (generation, incarnation, state) supersedes a record: a newer generation
 * wins, then a higher incarnation, then the stronger state (alive < suspect < down < left). This is
 * a total order, so merging is commutative and idempotent, and only the member itself (which alone
 * raises its incarnation or generation) can bring itself back from suspect or down.
 */
export function supersedes (u: { generation: number, incarnation: number, state: MemberState }, rec: { generation: number, incarnation: number, state: MemberState }): boolean {
  if (u.generation !== rec.generation) return u.generation > rec.generation
  if (u.incarnation !== rec.incarnation) return u.incarnation > rec.incarnation
  return rank[u.state] > rank[rec.state]
}

/** FNV-1a over a string, 32 bits. */
export function hashString (s: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193) >>> 0
  }
  return h
}

function mix (h: number, v: number): number {
  h = fmix(h ^ (v >>> 0))
  return fmix(h ^ (Math.floor(v / 0x1_0000_0000) >>> 0) ^ 0x5bd1e995)
}

/** murmur3's 32-bit finalizer: every input bit affects every output bit (digest sums need that). */
function fmix (h: number): number {
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}

/** Digest term of one member: equal views give equal sums of terms. */
export function memberDigest (idHash: number, generation: number, incarnation: number, state: MemberState, lane: number): number {
  // alive and suspect count as one: suspicion is transient and must not trigger full-state exchanges
  const cls = state === 'down' ? 1 : state === 'left' ? 2 : 0
  let h = fmix(idHash ^ Math.imul(lane, 0x9e3779b9))
  h = mix(h, generation)
  h = mix(h, incarnation)
  h = mix(h, cls)
  return h
}

/**
 * The member table: records by id, an array for O(1) random sampling, an index of live addresses
 * (to evict a stale id when another takes its address) and a shuffled round-robin probe order.
 */
export class MemberTable {
  private readonly byId = new Map<string, MemberRecord>()
  private readonly list: MemberRecord[] = []
  private readonly liveAddrs = new Map<string, string>()
  private probeOrder: string[] = []
  private probeIndex = 0
  private live = 0

  /** Members known (any state), ourselves excluded. */
  get size (): number {
    return this.list.length
  }

  /** Members alive or suspect (self excluded). */
  get liveCount (): number {
    return this.live
  }

  /** The record of `id`, if known. */
  get (id: string): MemberRecord | undefined {
    return this.byId.get(id)
  }

  /** Every record (do not mutate the array). */
  all (): readonly MemberRecord[] {
    return this.list
  }

  /** Id of the live member holding addr, if any. */
  liveAt (addr: string): string | undefined {
    return this.liveAddrs.get(addr)
  }

  /** Adds a record (caller checked it is absent); new live members enter the probe order at a random place. */
  add (rec: MemberRecord, random: Random): void {
    rec.slot = this.list.length
    this.list.push(rec)
    this.byId.set(rec.id, rec)
    if (isLive(rec.state)) {
      this.live++
      this.liveAddrs.set(rec.addr, rec.id)
      // a random place in the rest of this round: push, then swap (O(1), unlike splice)
      const order = this.probeOrder
      order.push(rec.id)
      const at = this.probeIndex + Math.floor(random.next() * (order.length - this.probeIndex))
      const last = order.length - 1
      order[last] = order[at] as string
      order[at] = rec.id
    }
  }

  /** Records a state/address change of an existing record, keeping the indexes right. */
  changed (rec: MemberRecord, before: { state: MemberState, addr: string }): void {
    const wasLive = isLive(before.state)
    const nowLive = isLive(rec.state)
    if (wasLive && this.liveAddrs.get(before.addr) === rec.id) this.liveAddrs.delete(before.addr)
    if (nowLive) this.liveAddrs.set(rec.addr, rec.id)
    if (wasLive !== nowLive) this.live += nowLive ? 1 : -1
    // members that come back are probed again after the next reshuffle (at the latest)
    rec.encoded = undefined
  }

  /** Removes a record. */
  remove (id: string): void {
    const rec = this.byId.get(id)
    if (rec === undefined) return
    this.byId.delete(id)
    const last = this.list.pop()
    if (last !== undefined && last !== rec) {
      this.list[rec.slot] = last
      last.slot = rec.slot
    }
    if (isLive(rec.state)) {
      this.live--
      if (this.liveAddrs.get(rec.addr) === rec.id) this.liveAddrs.delete(rec.addr)
    }
  }

  /** Makes `id` the next probe target (it stays in the order; probing it twice in a round is harmless). */
  probeNext (id: string): void {
    this.probeOrder.splice(this.probeIndex, 0, id)
  }

  /** The next live member in round-robin order; reshuffles at the end of each round (SWIM §4.3). */
  nextProbeTarget (random: Random): MemberRecord | undefined {
    for (let pass = 0; pass < 2; pass++) {
      while (this.probeIndex < this.probeOrder.length) {
        const id = this.probeOrder[this.probeIndex++] as string
        const rec = this.byId.get(id)
        if (rec !== undefined && isLive(rec.state)) return rec
      }
      this.probeOrder = this.list.filter(r => isLive(r.state)).map(r => r.id)
      shuffle(this.probeOrder, random)
      this.probeIndex = 0
    }
    return undefined
  }

  /**
   * Up to k distinct random members accepted by `ok`, by rejection sampling (bounded tries, so a
   * table with few eligible members still returns quickly).
   */
  sample (k: number, random: Random, ok: (r: MemberRecord) => boolean): MemberRecord[] {
    const out: MemberRecord[] = []
    const n = this.list.length
    if (n === 0 || k <= 0) return out
    if (n <= k * 4) {
      const pool = this.list.filter(ok)
      shuffle(pool, random)
      return pool.slice(0, k)
    }
    const seen = new Set<number>()
    for (let tries = 0; tries < k * 8 && out.length < k; tries++) {
      const i = Math.floor(random.next() * n)
      if (seen.has(i)) continue
      seen.add(i)
      const rec = this.list[i] as MemberRecord
      if (ok(rec)) out.push(rec)
    }
    if (out.length < k) {
      // sparse eligibility: fall back to a full scan
      const pool = this.list.filter(r => ok(r) && !out.includes(r))
      shuffle(pool, random)
      for (const r of pool) {
        if (out.length >= k) break
        out.push(r)
      }
    }
    return out
  }
}

/** Alive or suspect. */
export function isLive (state: MemberState): boolean {
  return state === 'alive' || state === 'suspect'
}

/** Fisher–Yates shuffle with an injected random source. */
export function shuffle<T> (arr: T[], random: Random): void {
  for (let i = arr.length - 1; i > 0; i--) {
    const j = Math.floor(random.next() * (i + 1))
    const t = arr[i] as T
    arr[i] = arr[j] as T
    arr[j] = t
  }
}

import { BroadcastQueue } from './broadcast-queue.ts'
import { InvalidIdentityError } from './errors.ts'
import { suspicionMinTimeout } from './config.ts'
import type { SwimConfig } from './config.ts'
import { encodeUpdate, MAX_COUNTER } from './codec.ts'
import type { Update } from './codec.ts'
import { hashString, isLive, MemberTable, memberDigest, supersedes } from './member-table.ts'
import type { MemberRecord } from './member-table.ts'
import { bytesEqual, memberInfo, toUpdate, validateIdentity } from './member-info.ts'
import { Awareness, SuspicionTracker } from './suspicion.ts'
import type { Clock, Identity, MemberInfo, MemberState, Random, Runtime } from './types.ts'

/** Bound on revival pings sent in answer to one feed (partition heal). */
const MAX_REVIVALS_PER_PACKET = 64

/** Options of the core. */
export interface SwimCoreInit {
  identity: Identity
  config: SwimConfig
  clock: Clock
  random: Random
  /** Renewal stamp; a restart should pass a larger one than its previous life (e.g. wall-clock ms). */
  generation?: number
}

/**
 * The membership half of the core: the view of every member, the merge rules for updates
 * (generation, incarnation, state), suspicions with Lifeguard's confirmations, refutation, address
 * conflicts and the queue of updates to disseminate. `SwimCore` adds the protocol on top.
 */
export class Membership {
  readonly config: SwimConfig
  protected readonly clock: Clock
  protected readonly random: Random
  /** Every other member we know, in any state. */
  protected readonly table = new MemberTable()
  /** Membership updates waiting to be piggybacked. */
  protected readonly updates: BroadcastQueue
  /** User broadcasts waiting to be piggybacked (a separate budget so neither starves the other). */
  protected readonly userBroadcasts: BroadcastQueue
  /** Lifeguard local health multiplier. */
  protected readonly awareness: Awareness
  protected readonly suspicions = new SuspicionTracker()
  /** Ourselves, as we gossip it. */
  protected readonly selfRec: MemberRecord
  /** Source of timer tokens: a timer whose token is no longer current is stale. */
  protected tokens = 0
  /** Set by leave(): no probing, no refuting. */
  protected leaving = false
  /** Keys that reached their transmit limit since the last flush. */
  protected pendingRetired: string[] = []
  /** Something new was queued: forward it now rather than at the next gossip tick. */
  protected fresh = false
  /** The packet being handled carried an outdated suspicion or death of us. */
  protected staleAboutUs = false
  /** Unknown senders asked `who`, with when (bounded by the protocol layer). */
  protected readonly asked = new Map<string, number>()

  constructor (init: SwimCoreInit) {
    this.config = init.config
    this.clock = init.clock
    this.random = init.random
    const { id, addr } = init.identity
    const meta = init.identity.meta ?? new Uint8Array(0)
    validateIdentity(id, addr, meta, this.config.maxMetaSize)
    const generation = init.generation ?? 0
    if (!Number.isFinite(generation) || generation < 0 || generation >= MAX_COUNTER) throw new InvalidIdentityError(`Generation must be a number in 0..2^48, got ${generation}`)
    this.selfRec = {
      id, addr, meta, incarnation: 0, generation: Math.floor(generation), state: 'alive',
      changedAt: this.clock.now(), encoded: undefined, idHash: hashString(id), slot: -1
    }
    this.updates = new BroadcastQueue(this.config.maxBroadcastQueue)
    this.userBroadcasts = new BroadcastQueue(this.config.maxBroadcastQueue)
    this.updates.onRetired = (key) => { this.pendingRetired.push(key) }
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier)
  }

  /** The member being probed right now, if any (the protocol layer knows). */
  protected probingTarget (): string | undefined {
    return undefined
  }

  /** Every known member except self (copies). */
  members (): MemberInfo[] {
    return this.table.all().map(memberInfo)
  }

  /** One member by id (a copy), or undefined. */
  member (id: string): MemberInfo | undefined {
    const rec = this.table.get(id)
    return rec === undefined ? undefined : memberInfo(rec)
  }

  /** This member as others should see it. */
  self (): MemberInfo {
    return memberInfo(this.selfRec)
  }

  /** Lifeguard local health multiplier score (0 = healthy). */
  localHealth (): number {
    return this.awareness.health()
  }

  /** Members alive or suspect, self included: the N of every formula. */
  liveCount (): number {
    return this.table.liveCount + 1
  }

  /** Queued membership updates and user broadcasts. */
  backlog (): number {
    return this.updates.size + this.userBroadcasts.size
  }

  /** 64-bit digest of the view (two 32-bit lanes); equal views give equal digests. */
  digest (): { hi: number, lo: number, count: number } {
    let hi = memberDigest(this.selfRec.idHash, this.selfRec.generation, this.selfRec.incarnation, this.selfRec.state, 1)
    let lo = memberDigest(this.selfRec.idHash, this.selfRec.generation, this.selfRec.incarnation, this.selfRec.state, 2)
    for (const r of this.table.all()) {
      hi = (hi + memberDigest(r.idHash, r.generation, r.incarnation, r.state, 1)) >>> 0
      lo = (lo + memberDigest(r.idHash, r.generation, r.incarnation, r.state, 2)) >>> 0
    }
    return { hi, lo, count: this.table.size + 1 }
  }

  /** Bootstraps from a persisted view: live members are added without gossip; nothing is sent. */
  applyMembers (members: readonly MemberInfo[], rt: Runtime): void {
    for (const m of members) {
      validateIdentity(m.id, m.addr, m.meta, this.config.maxMetaSize)
      this.applyUpdate({ ...m }, 'bootstrap', '', rt)
    }
  }

  protected onSuspicionTimeout (id: string, token: number, rt: Runtime): void {
    const s = this.suspicions.get(id)
    if (s === undefined || s.token !== token) return
    const rec = this.table.get(id)
    this.suspicions.delete(id)
    if (rec === undefined || rec.state !== 'suspect' || rec.generation !== s.generation || rec.incarnation !== s.incarnation) return
    this.applyUpdate({ id, addr: rec.addr, meta: rec.meta, generation: rec.generation, incarnation: rec.incarnation, state: 'down' }, 'gossip', this.selfRec.id, rt)
  }

  protected reap (): void {
    const now = this.clock.now()
    const old: string[] = []
    for (const r of this.table.all()) {
      if (!isLive(r.state) && now - r.changedAt >= this.config.forgetDownAfter) old.push(r.id)
    }
    for (const id of old) this.forget(id)
  }

  protected applyUpdate (u: Update, source: 'gossip' | 'feed' | 'bootstrap', senderId: string, rt: Runtime, revivals?: MemberRecord[]): void {
    if (u.id === this.selfRec.id) {
      this.applySelfUpdate(u, rt)
      return
    }
    let rec = this.table.get(u.id)
    if (rec === undefined) {
      // unknown members enter only through alive: a stale death about a stranger is not news
      if (u.state !== 'alive') return
      if (!this.claimAddress(u, rt)) return
      if (this.table.size >= this.config.maxMembers && !this.evictOne()) return
      rec = { id: u.id, addr: u.addr, meta: u.meta, generation: u.generation, incarnation: u.incarnation, state: 'alive', changedAt: this.clock.now(), encoded: undefined, idHash: hashString(u.id), slot: -1 }
      this.table.add(rec, this.random)
      this.asked.delete(rec.id)
      // feeds are not re-gossiped (a joiner would flood), except the sender's first-hand record
      if (source === 'gossip' || (source === 'feed' && u.id === senderId)) this.queueRecord(rec)
      rt.notify({ type: 'member-up', member: memberInfo(rec) })
      return
    }
    if (source === 'feed' && u.state === 'down' && isLive(rec.state)) {
      // memberlist mergeState: a death learned from full state is only a suspicion, so the member can refute
      u = { ...u, state: 'suspect', from: senderId }
    }
    if (supersedes(u, rec)) {
      if (u.state === 'alive' && u.addr !== rec.addr && !this.claimAddress(u, rt)) return
      this.transition(rec, u, source, rt)
      return
    }
    if (u.generation === rec.generation && u.incarnation === rec.incarnation) {
      if (u.state === 'suspect' && rec.state === 'suspect' && source === 'gossip' && u.from !== undefined) {
        this.confirmSuspicion(rec, u.from, rt)
      } else if (source === 'feed' && revivals !== undefined && rec.state === 'down' && isLive(u.state) && revivals.length < MAX_REVIVALS_PER_PACKET) {
        // the sender still sees it alive: tell it directly that we hold it down, so it can refute
        revivals.push(rec)
      }
    }
  }

  protected transition (rec: MemberRecord, u: Update, source: 'gossip' | 'feed' | 'bootstrap', rt: Runtime): void {
    const before = { state: rec.state, addr: rec.addr, meta: rec.meta }
    rec.generation = u.generation
    rec.incarnation = u.incarnation
    rec.state = u.state
    rec.addr = u.addr
    rec.meta = u.meta
    if (before.state !== u.state) rec.changedAt = this.clock.now()
    this.table.changed(rec, before)
    if (u.state !== 'suspect') this.suspicions.delete(rec.id)
    const wasLive = isLive(before.state)
    switch (u.state) {
      case 'alive':
        if (!wasLive) rt.notify({ type: 'member-up', member: memberInfo(rec) })
        else if (before.addr !== rec.addr || !bytesEqual(before.meta, rec.meta)) rt.notify({ type: 'member-updated', member: memberInfo(rec) })
        break
      case 'suspect':
        if (!wasLive) rt.notify({ type: 'member-up', member: memberInfo(rec) })
        this.startSuspicion(rec, u.from ?? '', rt)
        this.maybeProbeSoon(rec, u.from ?? '')
        rt.notify({ type: 'member-suspect', member: memberInfo(rec), from: u.from ?? '' })
        break
      case 'down':
        if (before.state !== 'down') rt.notify({ type: 'member-down', member: memberInfo(rec) })
        break
      case 'left':
        if (before.state !== 'left') rt.notify({ type: 'member-left', member: memberInfo(rec) })
        break
    }
    if (source !== 'bootstrap') this.queueRecord(rec, u.state === 'suspect' ? u.from : undefined)
  }

  /** Updates about ourselves: refute suspicion and death (Lifeguard: that costs health). */
  protected applySelfUpdate (u: Update, rt: Runtime): void {
    const self = this.selfRec
    // decoded counters are below MAX_COUNTER; one that can't be exceeded can't be refuted either
    if (u.generation + 1 >= MAX_COUNTER || u.incarnation + 1 >= MAX_COUNTER) return
    if (u.generation > self.generation) {
      // a newer generation of our id exists (our clock went back across a restart): supersede it
      self.generation = u.generation + 1
      self.incarnation = 0
      self.encoded = undefined
      this.queueSelf()
      return
    }
    if (u.generation < self.generation || this.leaving) return
    if (u.state === 'alive') {
      if (u.incarnation > self.incarnation) {
        self.incarnation = u.incarnation + 1
        self.encoded = undefined
        this.queueSelf()
      }
      return
    }
    if (u.incarnation < self.incarnation) {
      // someone still holds an old death or suspicion of us: answer its sender with our record
      this.staleAboutUs = true
      return
    }
    self.incarnation = u.incarnation + 1
    self.encoded = undefined
    if (this.config.lifeguard) this.awareness.apply(1)
    this.queueSelf()
    rt.notify({ type: 'refuted', incarnation: self.incarnation })
  }

  protected startSuspicion (rec: MemberRecord, origin: string, rt: Runtime): void {
    const c = this.config
    const n = this.liveCount()
    const min = suspicionMinTimeout(c, n)
    let k = c.lifeguard ? c.suspicionMult - 2 : 0
    if (n - 2 < k) k = 0
    const max = c.lifeguard ? c.suspicionMaxTimeoutMult * min : min
    const { token, afterMs } = this.suspicions.start(rec, origin, { min, max, k }, ++this.tokens, this.clock.now())
    rt.schedule({ type: 'suspicion', id: rec.id, token }, afterMs)
  }

  /**
   * Dogpile acceleration: a few of the members that hear of a suspicion (about k of them, chosen at
   * random) probe the suspect next, so independent confirmations (or a refutation) come within a
   * period instead of waiting for round-robin order.
   */
  protected maybeProbeSoon (rec: MemberRecord, origin: string): void {
    if (!this.config.lifeguard || origin === this.selfRec.id || this.probingTarget() === rec.id) return
    const k = Math.max(1, this.config.suspicionMult - 2)
    if (this.random.next() < Math.min(1, (k + 1) / this.liveCount())) this.table.probeNext(rec.id)
  }

  /** An independent confirmation shortens the suspicion (Lifeguard dogpile) and is re-gossiped. */
  protected confirmSuspicion (rec: MemberRecord, from: string, rt: Runtime): void {
    const next = this.suspicions.confirm(rec.id, from, () => ++this.tokens, this.clock.now())
    if (next === undefined) return
    rt.schedule({ type: 'suspicion', id: rec.id, token: next.token }, next.afterMs)
    this.queueRecord(rec, from)
  }

  /**
   * Address uniqueness: a live member at the same address with an older or equal generation is a
   * previous occupant and goes down locally (no ghost duplicates); a newer occupant wins instead.
   */
  protected claimAddress (u: Update, rt: Runtime): boolean {
    if (u.addr === this.selfRec.addr) return false
    const holderId = this.table.liveAt(u.addr)
    if (holderId === undefined || holderId === u.id) return true
    const holder = this.table.get(holderId)
    if (holder === undefined) return true
    if (holder.generation > u.generation) return false
    const before = { state: holder.state, addr: holder.addr }
    holder.state = 'down'
    holder.changedAt = this.clock.now()
    this.table.changed(holder, before)
    this.suspicions.delete(holder.id)
    this.updates.delete(holder.id)
    rt.notify({ type: 'member-down', member: memberInfo(holder) })
    return true
  }

  protected forget (id: string): void {
    this.table.remove(id)
    this.suspicions.delete(id)
    this.updates.delete(id)
  }

  /** Makes room in a full table: the longest-down member goes. */
  protected evictOne (): boolean {
    let oldest: MemberRecord | undefined
    for (const r of this.table.all()) {
      if (!isLive(r.state) && (oldest === undefined || r.changedAt < oldest.changedAt)) oldest = r
    }
    if (oldest === undefined) return false
    this.forget(oldest.id)
    return true
  }

  protected setSelfState (state: MemberState): void {
    this.selfRec.state = state
    this.selfRec.encoded = undefined
  }

  protected queueSelf (): void {
    this.updates.enqueue(this.selfRec.id, this.encoded(this.selfRec))
  }

  protected queueRecord (rec: MemberRecord, from?: string): void {
    this.fresh = true
    const bytes = rec.state === 'suspect' ? encodeUpdate(toUpdate(rec, from ?? this.selfRec.id)) : this.encoded(rec)
    this.updates.enqueue(rec.id, bytes)
  }

  protected encoded (rec: MemberRecord): Uint8Array {
    if (rec.encoded === undefined) rec.encoded = encodeUpdate(toUpdate(rec, rec === this.selfRec ? '' : this.selfRec.id))
    return rec.encoded
  }
}

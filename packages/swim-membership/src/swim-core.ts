import { BroadcastQueue } from './broadcast-queue.ts'
import { announceScale, retransmitLimit, suspicionMinTimeout } from './config.ts'
import type { SwimConfig } from './config.ts'
import { assemblePacket, decodePacket, encodeBroadcast, encodeHead, encodeUpdate, MAX_ADDR_BYTES, MAX_ID_BYTES, varintSize } from './codec.ts'
import type { Message, Packet, PacketSender, Update } from './codec.ts'
import { ClusterMismatchError, InvalidIdentityError, MalformedPacketError, PayloadTooLargeError } from './errors.ts'
import { hashString, isLive, MemberTable, memberDigest, supersedes } from './member-table.ts'
import type { MemberRecord } from './member-table.ts'
import { Awareness, suspicionTimeout } from './suspicion.ts'
import type { Clock, Identity, MemberInfo, MemberState, Random, Runtime, Timer } from './types.ts'

/** Options of the core. */
export interface SwimCoreInit {
  identity: Identity
  config: SwimConfig
  clock: Clock
  random: Random
  /** Renewal stamp; a restart should pass a larger one than its previous life (e.g. wall-clock ms). */
  generation?: number
}

interface ProbeState {
  token: number
  seq: number
  target: string
  generation: number
  acked: boolean
  expectedNacks: number
  nacks: number
}

interface Suspicion {
  generation: number
  incarnation: number
  startedAt: number
  origin: string
  confirmers: Set<string>
  token: number
  min: number
  max: number
  k: number
}

interface Relay {
  originAddr: string
  originId: string
  originSeq: number
}

/** Bound on revival pings sent in answer to one feed (partition heal). */
const MAX_REVIVALS_PER_PACKET = 64
/** Bound on outstanding ping-req relays. */
const MAX_RELAYS = 1024
/** Bound on remembered user-broadcast keys (duplicate suppression). */
const MAX_SEEN_BROADCASTS = 8192

/**
 * The SWIM + Lifeguard state machine, sans IO (foca's design): feed it packets (`handleData`),
 * timer events (`handleTimer`) and commands; it acts only through the `Runtime` passed in.
 * Deterministic for a given sequence of inputs, clock readings and random numbers.
 */
export class SwimCore {
  readonly config: SwimConfig
  private readonly clock: Clock
  private readonly random: Random
  private readonly table = new MemberTable()
  private readonly updates: BroadcastQueue
  private readonly userBroadcasts: BroadcastQueue
  private readonly awareness: Awareness
  private readonly suspicions = new Map<string, Suspicion>()
  private readonly relays = new Map<number, Relay>()
  private readonly seenBroadcasts = new Set<string>()
  private readonly asked = new Map<string, number>()
  private readonly selfRec: MemberRecord
  private seeds: string[] = []
  private seq = 0
  private tokens = 0
  private epoch = 0
  private probe: ProbeState | undefined
  private probeToken = 0
  private leaving = false
  private started = false
  private pendingRetired: string[] = []
  private lastPull = -Infinity
  private fresh = false

  constructor (init: SwimCoreInit) {
    this.config = init.config
    this.clock = init.clock
    this.random = init.random
    const { id, addr } = init.identity
    const meta = init.identity.meta ?? new Uint8Array(0)
    validateIdentity(id, addr, meta, this.config.maxMetaSize)
    this.selfRec = {
      id, addr, meta, incarnation: 0, generation: Math.max(0, Math.floor(init.generation ?? 0)), state: 'alive',
      changedAt: this.clock.now(), encoded: undefined, idHash: hashString(id), slot: -1
    }
    this.updates = new BroadcastQueue(this.config.maxBroadcastQueue)
    this.userBroadcasts = new BroadcastQueue(this.config.maxBroadcastQueue)
    this.updates.onRetired = (key) => { this.pendingRetired.push(key) }
    this.awareness = new Awareness(this.config.awarenessMaxMultiplier)
  }

  // ---------------------------------------------------------------- queries

  /** Every known member except self (copies). */
  members (): MemberInfo[] {
    return this.table.all().map(info)
  }

  /** One member by id (a copy), or undefined. */
  member (id: string): MemberInfo | undefined {
    const rec = this.table.get(id)
    return rec === undefined ? undefined : info(rec)
  }

  /** This member as others should see it. */
  self (): MemberInfo {
    return info(this.selfRec)
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

  // ---------------------------------------------------------------- commands

  /** Starts the periodic timers (probe, gossip, announce, announce-down, reap) and queues our alive. */
  start (rt: Runtime): void {
    this.started = true
    this.epoch = ++this.tokens
    const c = this.config
    const token = this.epoch
    rt.schedule({ type: 'probe', token }, Math.floor(this.random.next() * c.probeInterval))
    rt.schedule({ type: 'gossip', token }, c.gossipInterval)
    rt.schedule({ type: 'announce', token }, this.jitter(c.announceInterval))
    rt.schedule({ type: 'announce-down', token }, this.jitter(c.announceDownInterval))
    rt.schedule({ type: 'reap', token }, this.reapInterval())
    this.queueSelf()
  }

  /** Announces (full-state exchange) to bare addresses; remembered as seeds for when we are alone. */
  join (addrs: readonly string[], rt: Runtime): void {
    for (const addr of addrs) {
      if (addr === this.selfRec.addr) continue
      if (!this.seeds.includes(addr)) this.seeds.push(addr)
      this.sendFeed(addr, '', true, rt)
    }
  }

  /** Leaves gracefully: state left, gossiped at once to a few members and then piggybacked. */
  leave (rt: Runtime): void {
    if (this.leaving) return
    this.leaving = true
    this.setSelfState('left')
    this.queueSelf()
    this.probe = undefined
    for (const m of this.table.sample(Math.max(1, this.config.gossipNodes), this.random, r => isLive(r.state))) {
      this.sendPacket(m.addr, m.id, { type: 'gossip' }, rt)
    }
    if (this.table.liveCount === 0) rt.notify({ type: 'leave-disseminated' })
    this.flushRetired(rt)
  }

  /** Renews this member: generation+1 (or the clock, whichever is larger), incarnation 0; announces again. */
  rejoin (rt: Runtime): void {
    this.leaving = false
    this.selfRec.generation = Math.max(this.selfRec.generation + 1, Math.floor(this.clock.now()))
    this.selfRec.incarnation = 0
    this.setSelfState('alive')
    this.start(rt)
    const addrs = new Set(this.seeds)
    for (const m of this.table.sample(3, this.random, r => r.state !== 'left')) addrs.add(m.addr)
    for (const addr of addrs) this.sendFeed(addr, this.table.liveAt(addr) ?? '', true, rt)
  }

  /** Changes our metadata: incarnation+1 and gossiped. */
  updateMeta (meta: Uint8Array, rt: Runtime): void {
    validateIdentity(this.selfRec.id, this.selfRec.addr, meta, this.config.maxMetaSize)
    this.selfRec.meta = meta
    this.selfRec.incarnation++
    this.selfRec.encoded = undefined
    this.queueSelf()
    this.gossipNow(rt)
  }

  /** Queues a user broadcast (piggybacked with the same transmit budget as membership updates). */
  addBroadcast (key: string, payload: Uint8Array): void {
    if (typeof key !== 'string' || key === '' || byteLength(key) > MAX_ID_BYTES) throw new PayloadTooLargeError(`Broadcast key must be 1..${MAX_ID_BYTES} bytes`)
    const bytes = encodeBroadcast({ key, payload })
    const room = this.config.maxPacketSize - 64 - byteLength(this.selfRec.id) - byteLength(this.selfRec.addr) - MAX_ID_BYTES
    if (bytes.length > room) throw new PayloadTooLargeError(`Broadcast of ${bytes.length} bytes does not fit in a ${this.config.maxPacketSize}-byte packet (room ${room})`)
    this.rememberBroadcast(key)
    this.userBroadcasts.enqueue(key, bytes)
  }

  /** Bootstraps from a persisted view: live members are added without gossip; nothing is sent. */
  applyMembers (members: readonly MemberInfo[], rt: Runtime): void {
    for (const m of members) {
      validateIdentity(m.id, m.addr, m.meta, this.config.maxMetaSize)
      this.applyUpdate({ ...m }, 'bootstrap', '', rt)
    }
  }

  // ---------------------------------------------------------------- input: packets

  /**
   * Handles one received datagram. Throws MalformedPacketError, UnsupportedVersionError or
   * ClusterMismatchError before touching any state when the bytes are not a valid packet for us.
   * `from` (the transport-level source) is informational only: replies go to the sender's own addr.
   */
  handleData (bytes: Uint8Array, rt: Runtime): void {
    const p = decodePacket(bytes)
    if (p.clusterId !== this.config.clusterId) throw new ClusterMismatchError(`Packet from cluster ${p.clusterId}, this node is in cluster ${this.config.clusterId}`)
    for (const u of p.updates) {
      if (u.meta.length > this.config.maxMetaSize) throw new MalformedPacketError(`Update for "${u.id}" carries ${u.meta.length} bytes of metadata, over the ${this.config.maxMetaSize}-byte limit`)
    }
    if (p.sender.id === this.selfRec.id && p.sender.generation === this.selfRec.generation) return // our own echo
    const revivals: MemberRecord[] = []
    const source = p.message.type === 'feed' ? 'feed' : 'gossip'
    for (const u of p.updates) this.applyUpdate(u, source, p.sender.id, rt, revivals)
    for (const b of p.broadcasts) {
      if (this.seenBroadcasts.has(b.key)) continue
      this.rememberBroadcast(b.key)
      this.userBroadcasts.enqueue(b.key, encodeBroadcast(b))
      rt.notify({ type: 'broadcast', key: b.key, payload: b.payload })
    }
    this.handleMessage(p, rt)
    if (p.message.type !== 'feed' && this.table.get(p.sender.id) === undefined && this.mayAsk(p.sender.id)) {
      // a member we never heard of (its alive gossip missed us): ask for its record directly
      this.sendPacket(p.sender.addr, p.sender.id, { type: 'who' }, rt, false)
    }
    for (const rec of revivals) this.sendPacket(rec.addr, rec.id, { type: 'ping', seq: 0 }, rt)
    if (this.fresh) {
      // news is forwarded at once instead of at the next gossip tick: same transmit budget, one hop faster
      this.fresh = false
      this.gossipNow(rt)
    }
    if (p.sender.known > this.table.size + 1 && p.message.type !== 'feed' && !this.leaving) this.maybePull(p.sender, rt)
    this.flushRetired(rt)
  }

  private handleMessage (p: Packet, rt: Runtime): void {
    const m = p.message
    const forUs = p.to === '' || p.to === this.selfRec.id
    const from = p.sender
    switch (m.type) {
      case 'ping':
        // a ping meant for a previous occupant of our address must fail, so its sender learns
        if (forUs) this.sendPacket(from.addr, from.id, { type: 'ack', seq: m.seq }, rt)
        return
      case 'ack': {
        const probe = this.probe
        if (probe !== undefined && m.seq === probe.seq && m.seq !== 0 && from.id === probe.target) {
          probe.acked = true
          return
        }
        const relay = this.relays.get(m.seq)
        if (relay !== undefined) {
          this.relays.delete(m.seq)
          this.sendPacket(relay.originAddr, relay.originId, { type: 'indirect-ack', seq: relay.originSeq }, rt)
        }
        return
      }
      case 'ping-req': {
        if (!forUs || this.relays.size >= MAX_RELAYS) return
        const seq = this.nextSeq()
        this.relays.set(seq, { originAddr: from.addr, originId: from.id, originSeq: m.seq })
        this.sendPacket(m.targetAddr, m.targetId, { type: 'ping', seq }, rt)
        rt.schedule({ type: 'relay-timeout', seq }, Math.max(1, Math.floor(this.config.probeTimeout * this.config.nackRatio)))
        return
      }
      case 'indirect-ack':
        if (this.probe !== undefined && m.seq === this.probe.seq) this.probe.acked = true
        return
      case 'nack':
        if (this.probe !== undefined && m.seq === this.probe.seq) this.probe.nacks++
        return
      case 'feed':
        if (m.reply) this.sendFeed(from.addr, from.id, false, rt)
        return
      case 'digest': {
        const d = this.digest()
        if (d.hi !== m.hi || d.lo !== m.lo) this.sendFeed(from.addr, from.id, true, rt)
        return
      }
      case 'who':
        this.sendPacket(from.addr, from.id, { type: 'gossip' }, rt, true, true)
        return
      case 'gossip':
    }
  }

  // ---------------------------------------------------------------- input: timers

  /** Handles a timer event; stale, duplicated, late or reordered timers are ignored safely. */
  handleTimer (timer: Timer, rt: Runtime): void {
    switch (timer.type) {
      case 'probe':
        if (timer.token !== this.epoch) return
        this.onProbeTick(rt)
        break
      case 'probe-timeout':
        if (this.probe === undefined || timer.token !== this.probe.token || this.probe.acked) return
        this.sendIndirectProbes(this.probe, rt)
        break
      case 'relay-timeout': {
        const relay = this.relays.get(timer.seq)
        if (relay === undefined) return
        this.relays.delete(timer.seq)
        // Lifeguard nack: tells the requester that we, at least, can hear it
        if (this.config.lifeguard) this.sendPacket(relay.originAddr, relay.originId, { type: 'nack', seq: relay.originSeq }, rt)
        break
      }
      case 'suspicion':
        this.onSuspicionTimeout(timer.id, timer.token, rt)
        break
      case 'gossip':
        if (timer.token !== this.epoch) return
        this.gossipNow(rt)
        rt.schedule(timer, this.config.gossipInterval)
        break
      case 'announce':
        if (timer.token !== this.epoch) return
        this.onAnnounce(rt)
        rt.schedule(timer, this.jitter(announceScale(this.config.announceInterval, this.liveCount())))
        break
      case 'announce-down':
        if (timer.token !== this.epoch) return
        if (!this.leaving) {
          const [down] = this.table.sample(1, this.random, r => r.state === 'down')
          if (down !== undefined) this.sendFeed(down.addr, down.id, true, rt)
        }
        rt.schedule(timer, this.jitter(this.config.announceDownInterval))
        break
      case 'reap':
        if (timer.token !== this.epoch) return
        this.reap()
        rt.schedule(timer, this.reapInterval())
        break
    }
    this.flushRetired(rt)
  }

  private onProbeTick (rt: Runtime): void {
    const c = this.config
    const lg = c.lifeguard
    if (this.probe !== undefined) this.finishProbe(this.probe, rt)
    this.probe = undefined
    const interval = lg ? this.awareness.scale(c.probeInterval) : c.probeInterval
    rt.schedule({ type: 'probe', token: this.epoch }, interval)
    if (this.leaving) return
    const target = this.table.nextProbeTarget(this.random)
    if (target === undefined) {
      // alone (seeds not up yet, or lost everyone): keep announcing to the seeds, once per period
      for (const addr of this.seeds) this.sendFeed(addr, '', true, rt)
      return
    }
    const token = ++this.tokens
    const seq = this.nextSeq()
    this.probe = { token, seq, target: target.id, generation: target.generation, acked: false, expectedNacks: 0, nacks: 0 }
    this.probeToken = token
    this.sendPacket(target.addr, target.id, { type: 'ping', seq }, rt)
    rt.schedule({ type: 'probe-timeout', token }, lg ? this.awareness.scale(c.probeTimeout) : c.probeTimeout)
  }

  private sendIndirectProbes (probe: ProbeState, rt: Runtime): void {
    const target = this.table.get(probe.target)
    if (target === undefined || !isLive(target.state)) return
    const relays = this.table.sample(this.config.indirectChecks, this.random, r => r.state === 'alive' && r.id !== probe.target)
    for (const r of relays) {
      this.sendPacket(r.addr, r.id, { type: 'ping-req', seq: probe.seq, targetId: target.id, targetAddr: target.addr }, rt)
    }
    probe.expectedNacks = this.config.lifeguard ? relays.length : 0
  }

  private finishProbe (probe: ProbeState, rt: Runtime): void {
    const lg = this.config.lifeguard
    if (probe.acked) {
      if (lg) this.awareness.apply(-1)
      return
    }
    if (lg) {
      // missed nacks mean our own receive path is slow (Lifeguard LHA-Probe)
      this.awareness.apply(probe.expectedNacks > 0 ? probe.expectedNacks - probe.nacks : 1)
    }
    const target = this.table.get(probe.target)
    if (target === undefined || target.generation !== probe.generation) return
    if (target.state === 'alive') {
      this.applyUpdate({ id: target.id, addr: target.addr, meta: target.meta, generation: target.generation, incarnation: target.incarnation, state: 'suspect', from: this.selfRec.id }, 'gossip', this.selfRec.id, rt)
    } else if (target.state === 'suspect') {
      this.confirmSuspicion(target, this.selfRec.id, rt)
    }
  }

  private onSuspicionTimeout (id: string, token: number, rt: Runtime): void {
    const s = this.suspicions.get(id)
    if (s === undefined || s.token !== token) return
    const rec = this.table.get(id)
    this.suspicions.delete(id)
    if (rec === undefined || rec.state !== 'suspect' || rec.generation !== s.generation || rec.incarnation !== s.incarnation) return
    this.applyUpdate({ id, addr: rec.addr, meta: rec.meta, generation: rec.generation, incarnation: rec.incarnation, state: 'down' }, 'gossip', this.selfRec.id, rt)
  }

  private onAnnounce (rt: Runtime): void {
    if (this.leaving) return
    const [peer] = this.table.sample(1, this.random, r => r.state === 'alive')
    if (peer !== undefined) {
      const d = this.digest()
      this.sendPacket(peer.addr, peer.id, { type: 'digest', hi: d.hi, lo: d.lo, count: d.count }, rt, false)
    } else {
      // alone (lost everyone, or never joined): go back to the seeds
      for (const addr of this.seeds) this.sendFeed(addr, '', true, rt)
    }
  }

  private reap (): void {
    const now = this.clock.now()
    const old: string[] = []
    for (const r of this.table.all()) {
      if (!isLive(r.state) && now - r.changedAt >= this.config.forgetDownAfter) old.push(r.id)
    }
    for (const id of old) this.forget(id)
  }

  // ---------------------------------------------------------------- membership updates

  private applyUpdate (u: Update, source: 'gossip' | 'feed' | 'bootstrap', senderId: string, rt: Runtime, revivals?: MemberRecord[]): void {
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
      rt.notify({ type: 'member-up', member: info(rec) })
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

  private transition (rec: MemberRecord, u: Update, source: 'gossip' | 'feed' | 'bootstrap', rt: Runtime): void {
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
        if (!wasLive) rt.notify({ type: 'member-up', member: info(rec) })
        else if (before.addr !== rec.addr || !bytesEqual(before.meta, rec.meta)) rt.notify({ type: 'member-updated', member: info(rec) })
        break
      case 'suspect':
        if (!wasLive) rt.notify({ type: 'member-up', member: info(rec) })
        this.startSuspicion(rec, u.from ?? '', rt)
        this.maybeProbeSoon(rec, u.from ?? '')
        rt.notify({ type: 'member-suspect', member: info(rec), from: u.from ?? '' })
        break
      case 'down':
        if (before.state !== 'down') rt.notify({ type: 'member-down', member: info(rec) })
        break
      case 'left':
        if (before.state !== 'left') rt.notify({ type: 'member-left', member: info(rec) })
        break
    }
    if (source !== 'bootstrap') this.queueRecord(rec, u.state === 'suspect' ? u.from : undefined)
  }

  /** Updates about ourselves: refute suspicion and death (Lifeguard: that costs health). */
  private applySelfUpdate (u: Update, rt: Runtime): void {
    const self = this.selfRec
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
    if (u.incarnation < self.incarnation) return
    self.incarnation = u.incarnation + 1
    self.encoded = undefined
    if (this.config.lifeguard) this.awareness.apply(1)
    this.queueSelf()
    rt.notify({ type: 'refuted', incarnation: self.incarnation })
  }

  private startSuspicion (rec: MemberRecord, origin: string, rt: Runtime): void {
    const c = this.config
    const n = this.liveCount()
    const min = suspicionMinTimeout(c, n)
    let k = c.lifeguard ? c.suspicionMult - 2 : 0
    if (n - 2 < k) k = 0
    const max = c.lifeguard ? c.suspicionMaxTimeoutMult * min : min
    const s: Suspicion = { generation: rec.generation, incarnation: rec.incarnation, startedAt: this.clock.now(), origin, confirmers: new Set(), token: ++this.tokens, min, max, k }
    this.suspicions.set(rec.id, s)
    rt.schedule({ type: 'suspicion', id: rec.id, token: s.token }, Math.ceil(suspicionTimeout(0, k, min, max)))
  }

  /**
   * Dogpile acceleration: a few of the members that hear of a suspicion (about k of them, chosen at
   * random) probe the suspect next, so independent confirmations (or a refutation) come within a
   * period instead of waiting for round-robin order.
   */
  private maybeProbeSoon (rec: MemberRecord, origin: string): void {
    if (!this.config.lifeguard || origin === this.selfRec.id || this.probe?.target === rec.id) return
    const k = Math.max(1, this.config.suspicionMult - 2)
    if (this.random.next() < Math.min(1, (k + 1) / this.liveCount())) this.table.probeNext(rec.id)
  }

  /** An independent confirmation shortens the suspicion (Lifeguard dogpile) and is re-gossiped. */
  private confirmSuspicion (rec: MemberRecord, from: string, rt: Runtime): void {
    const s = this.suspicions.get(rec.id)
    if (s === undefined || from === '' || from === s.origin || s.confirmers.has(from) || s.k === 0) return
    if (s.confirmers.size >= s.k) return
    s.confirmers.add(from)
    s.token = ++this.tokens
    const total = suspicionTimeout(s.confirmers.size, s.k, s.min, s.max)
    const remaining = Math.max(0, Math.ceil(total - (this.clock.now() - s.startedAt)))
    rt.schedule({ type: 'suspicion', id: rec.id, token: s.token }, remaining)
    this.queueRecord(rec, from)
  }

  /**
   * Address uniqueness: a live member at the same address with an older or equal generation is a
   * previous occupant and goes down locally (no ghost duplicates); a newer occupant wins instead.
   */
  private claimAddress (u: Update, rt: Runtime): boolean {
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
    rt.notify({ type: 'member-down', member: info(holder) })
    return true
  }

  private forget (id: string): void {
    this.table.remove(id)
    this.suspicions.delete(id)
    this.updates.delete(id)
  }

  /** Makes room in a full table: the longest-down member goes. */
  private evictOne (): boolean {
    let oldest: MemberRecord | undefined
    for (const r of this.table.all()) {
      if (!isLive(r.state) && (oldest === undefined || r.changedAt < oldest.changedAt)) oldest = r
    }
    if (oldest === undefined) return false
    this.forget(oldest.id)
    return true
  }

  private setSelfState (state: MemberState): void {
    this.selfRec.state = state
    this.selfRec.encoded = undefined
  }

  // ---------------------------------------------------------------- output

  private queueSelf (): void {
    this.updates.enqueue(this.selfRec.id, this.encoded(this.selfRec))
  }

  private queueRecord (rec: MemberRecord, from?: string): void {
    this.fresh = true
    const bytes = rec.state === 'suspect' ? encodeUpdate(toUpdate(rec, from ?? this.selfRec.id)) : this.encoded(rec)
    this.updates.enqueue(rec.id, bytes)
  }

  private encoded (rec: MemberRecord): Uint8Array {
    if (rec.encoded === undefined) rec.encoded = encodeUpdate(toUpdate(rec, rec === this.selfRec ? '' : this.selfRec.id))
    return rec.encoded
  }

  private sender (): PacketSender {
    const s = this.selfRec
    return { id: s.id, addr: s.addr, generation: s.generation, incarnation: s.incarnation, known: this.table.size + 1 }
  }

  /**
   * Sends one packet with piggybacked updates: first, about the receiver itself when we hold it
   * suspect (Lifeguard buddy system) or down (so it can refute); then queued membership updates
   * and user broadcasts, fewest-sent first, within the packet size (each kind keeps room for the other).
   */
  private sendPacket (addr: string, toId: string, message: Message, rt: Runtime, piggyback = true, includeSelf = false): void {
    const head = encodeHead(this.config.clusterId, this.sender(), toId, message)
    let budget = this.config.maxPacketSize - head.length - 8
    const updates: Uint8Array[] = []
    if (includeSelf) {
      const b = this.encoded(this.selfRec)
      updates.push(b)
      budget -= b.length
    }
    const receiver = toId === '' ? undefined : this.table.get(toId)
    if (receiver !== undefined && (receiver.state === 'down' || (receiver.state === 'suspect' && this.config.lifeguard))) {
      const b = this.encoded(receiver)
      updates.push(b)
      budget -= b.length
    }
    let broadcasts: Uint8Array[] = []
    if (piggyback) {
      const n = this.liveCount()
      const limit = retransmitLimit(this.config, n)
      if (this.userBroadcasts.size > 0) {
        broadcasts = this.userBroadcasts.select(this.updates.size > 0 ? Math.floor(budget / 2) : budget, limit)
        for (const b of broadcasts) budget -= b.length
      }
      for (const b of this.updates.select(budget, limit)) updates.push(b)
    }
    rt.send(addr, assemblePacket(head, updates, broadcasts))
  }

  /** Our full view (self first, then every member), split across as many packets as needed. */
  private sendFeed (addr: string, toId: string, reply: boolean, rt: Runtime): void {
    const records = [this.selfRec, ...this.table.all()]
    let head = encodeHead(this.config.clusterId, this.sender(), toId, { type: 'feed', reply })
    const room = this.config.maxPacketSize - 8
    let chunk: Uint8Array[] = []
    let size = head.length
    for (const rec of records) {
      const b = this.encoded(rec)
      if (size + b.length > room && chunk.length > 0) {
        rt.send(addr, assemblePacket(head, chunk, []))
        // only the first chunk asks for a reply
        head = encodeHead(this.config.clusterId, this.sender(), toId, { type: 'feed', reply: false })
        chunk = []
        size = head.length
      }
      chunk.push(b)
      size += b.length + varintSize(chunk.length) - varintSize(chunk.length - 1)
    }
    rt.send(addr, assemblePacket(head, chunk, []))
  }

  private gossipNow (rt: Runtime): void {
    if (this.updates.size === 0 && this.userBroadcasts.size === 0) return
    const now = this.clock.now()
    const targets = this.table.sample(this.config.gossipNodes, this.random, r => isLive(r.state) || (r.state === 'down' && now - r.changedAt < this.config.gossipToTheDeadTime))
    for (const t of targets) {
      if (this.updates.size === 0 && this.userBroadcasts.size === 0) break
      this.sendPacket(t.addr, t.id, { type: 'gossip' }, rt)
    }
  }

  private flushRetired (rt: Runtime): void {
    if (this.pendingRetired.length === 0) return
    const keys = this.pendingRetired
    this.pendingRetired = []
    if (this.leaving && keys.includes(this.selfRec.id)) rt.notify({ type: 'leave-disseminated' })
  }

  private rememberBroadcast (key: string): void {
    if (this.seenBroadcasts.size >= MAX_SEEN_BROADCASTS) {
      const first = this.seenBroadcasts.values().next()
      if (first.done !== true) this.seenBroadcasts.delete(first.value)
    }
    this.seenBroadcasts.add(key)
  }

  /**
   * The sender knows more members than we do, so gossip missed us somewhere: pull its full
   * state through a digest exchange. Rate-limited so a churning cluster does not flood.
   */
  private maybePull (sender: PacketSender, rt: Runtime): void {
    const now = this.clock.now()
    if (now - this.lastPull < 2 * this.config.probeInterval) return
    this.lastPull = now
    const d = this.digest()
    this.sendPacket(sender.addr, sender.id, { type: 'digest', hi: d.hi, lo: d.lo, count: d.count }, rt, false)
  }

  /** At most one `who` per unknown sender per probe interval; the map is bounded. */
  private mayAsk (id: string): boolean {
    const now = this.clock.now()
    const last = this.asked.get(id)
    if (last !== undefined && now - last < this.config.probeInterval) return false
    if (this.asked.size >= MAX_RELAYS) this.asked.clear()
    this.asked.set(id, now)
    return true
  }

  private nextSeq (): number {
    this.seq = this.seq >= 0x7fff_ffff ? 1 : this.seq + 1
    return this.seq
  }

  private jitter (ms: number): number {
    return Math.floor(ms * (0.5 + this.random.next()))
  }

  private reapInterval (): number {
    return Math.max(1000, Math.floor(this.config.forgetDownAfter / 10))
  }

  /** Whether `start` was called. */
  get isStarted (): boolean {
    return this.started
  }

  /** Token of the probe in flight (for tests). */
  get currentProbeToken (): number {
    return this.probeToken
  }
}

function toUpdate (rec: MemberRecord, from: string): Update {
  const u: Update = { id: rec.id, addr: rec.addr, meta: rec.meta, generation: rec.generation, incarnation: rec.incarnation, state: rec.state }
  if (rec.state === 'suspect') u.from = from
  return u
}

function info (rec: MemberRecord): MemberInfo {
  return { id: rec.id, addr: rec.addr, meta: rec.meta, incarnation: rec.incarnation, generation: rec.generation, state: rec.state }
}

function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const encoder = new TextEncoder()
function byteLength (s: string): number {
  return encoder.encode(s).length
}

/** Throws InvalidIdentityError when an id, address or metadata is unusable. */
export function validateIdentity (id: unknown, addr: unknown, meta: unknown, maxMeta: number): void {
  if (typeof id !== 'string' || id === '' || byteLength(id) > MAX_ID_BYTES) throw new InvalidIdentityError(`Member id must be a string of 1..${MAX_ID_BYTES} bytes`)
  if (typeof addr !== 'string' || addr === '' || byteLength(addr) > MAX_ADDR_BYTES) throw new InvalidIdentityError(`Member addr must be a string of 1..${MAX_ADDR_BYTES} bytes`)
  if (!(meta instanceof Uint8Array)) throw new InvalidIdentityError('Member meta must be a Uint8Array')
  if (meta.length > maxMeta) throw new InvalidIdentityError(`Member meta is ${meta.length} bytes, over the ${maxMeta}-byte limit`)
}

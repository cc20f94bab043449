import { announceScale, retransmitLimit } from './config.ts'
import { assemblePacket, decodePacket, encodeBroadcast, encodeHead, MAX_ID_BYTES, varintSize } from './codec.ts'
import type { Message, Packet, PacketSender } from './codec.ts'
import { ClusterMismatchError, MalformedPacketError, PayloadTooLargeError } from './errors.ts'
import { isLive } from './member-table.ts'
import type { MemberRecord } from './member-table.ts'
import { byteLength, validateIdentity } from './member-info.ts'
import { Membership } from './membership.ts'
import type { SwimCoreInit } from './membership.ts'
import type { Runtime, Timer } from './types.ts'

export type { SwimCoreInit } from './membership.ts'

interface ProbeState {
  token: number
  seq: number
  target: string
  generation: number
  acked: boolean
  expectedNacks: number
  nacks: number
}

interface Relay {
  originAddr: string
  originId: string
  originSeq: number
}

/** Bound on outstanding ping-req relays. */
const MAX_RELAYS = 1024
/** Bound on remembered user-broadcast keys (duplicate suppression). */
const MAX_SEEN_BROADCASTS = 8192

/**
 * The SWIM + Lifeguard state machine, sans IO (foca's design): feed it packets (`handleData`),
 * timer events (`handleTimer`) and commands; it acts only through the `Runtime` passed in.
 * Deterministic for a given sequence of inputs, clock readings and random numbers.
 */
export class SwimCore extends Membership {
  private readonly relays = new Map<number, Relay>()
  private readonly seenBroadcasts = new Set<string>()
  private seeds: string[] = []
  private seq = 0
  private epoch = 0
  private probe: ProbeState | undefined
  private probeToken = 0
  private probeDue: number | undefined
  private gossipDue: number | undefined
  /** Largest timer lateness seen since the current probe started. */
  private lag = 0
  private started = false
  private lastPull = -Infinity

  constructor (init: SwimCoreInit) {
    super(init)
  }

  protected override probingTarget (): string | undefined {
    return this.probe?.target
  }

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

  /**
   * Handles one received datagram. Throws MalformedPacketError, UnsupportedVersionError or
   * ClusterMismatchError before touching any state when the bytes are not a valid packet for us.
   * The transport-level source is not needed: replies go to the address inside the packet.
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
    const known = this.table.get(p.sender.id)
    if (p.message.type !== 'feed' && (known === undefined || newerThan(p.sender, known)) && this.mayAsk(p.sender.id)) {
      // a member we never heard of, or newer than our record of it (its gossip missed us): ask it directly
      this.sendPacket(p.sender.addr, p.sender.id, { type: 'who' }, rt, false)
    }
    if (this.staleAboutUs) {
      this.staleAboutUs = false
      if (this.mayAsk(`\0self:${p.sender.id}`)) this.sendPacket(p.sender.addr, p.sender.id, { type: 'gossip' }, rt, false, true)
    }
    for (const rec of revivals) this.sendPacket(rec.addr, rec.id, { type: 'ping', seq: 0 }, rt)
    this.forwardFresh(rt)
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
      case 'gossip': {
        if (timer.token !== this.epoch) return
        const now = this.clock.now()
        if (this.gossipDue !== undefined) this.lag = Math.max(this.lag, now - this.gossipDue)
        this.gossipDue = now + this.config.gossipInterval
        this.gossipNow(rt)
        rt.schedule(timer, this.config.gossipInterval)
        break
      }
      case 'announce':
        if (timer.token !== this.epoch) return
        this.onAnnounce(rt)
        rt.schedule(timer, this.jitter(announceScale(this.config.announceInterval, this.liveCount())))
        break
      case 'announce-down':
        if (timer.token !== this.epoch) return
        if (!this.leaving) {
          // small on purpose (most down members are really gone): a digest carrying the death; a
          // live receiver refutes and, its view differing, starts the full-state exchange
          const [down] = this.table.sample(1, this.random, r => r.state === 'down')
          if (down !== undefined) {
            const d = this.digest()
            this.sendPacket(down.addr, down.id, { type: 'digest', hi: d.hi, lo: d.lo, count: d.count }, rt, false)
          }
        }
        rt.schedule(timer, this.jitter(this.config.announceDownInterval))
        break
      case 'reap':
        if (timer.token !== this.epoch) return
        this.reap()
        rt.schedule(timer, this.reapInterval())
        break
    }
    this.forwardFresh(rt)
    this.flushRetired(rt)
  }

  private onProbeTick (rt: Runtime): void {
    const c = this.config
    const lg = c.lifeguard
    // timers firing well after they were due (this tick, or any gossip tick during the probe) mean
    // our own event loop is starved: an unanswered probe is then no evidence against the target
    const now = this.clock.now()
    const late = Math.max(this.lag, this.probeDue === undefined ? 0 : now - this.probeDue)
    this.lag = 0
    if (this.probe !== undefined) this.finishProbe(this.probe, lg && late > c.probeTimeout / 2, rt)
    this.probe = undefined
    const interval = lg ? this.awareness.scale(c.probeInterval) : c.probeInterval
    this.probeDue = now + interval
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

  private finishProbe (probe: ProbeState, starved: boolean, rt: Runtime): void {
    const lg = this.config.lifeguard
    if (probe.acked) {
      if (lg) this.awareness.apply(-1)
      return
    }
    if (lg) {
      // missed nacks mean our own receive path is slow (Lifeguard LHA-Probe)
      this.awareness.apply(probe.expectedNacks > 0 ? Math.max(0, probe.expectedNacks - probe.nacks) : 1)
    }
    // we could not have heard the ack in time: the failure is ours, not the target's
    if (starved) return
    const target = this.table.get(probe.target)
    if (target === undefined || target.generation !== probe.generation) return
    if (target.state === 'alive') {
      this.applyUpdate({ id: target.id, addr: target.addr, meta: target.meta, generation: target.generation, incarnation: target.incarnation, state: 'suspect', from: this.selfRec.id }, 'gossip', this.selfRec.id, rt)
    } else if (target.state === 'suspect') {
      this.confirmSuspicion(target, this.selfRec.id, rt)
    }
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

  /** News is forwarded at once instead of at the next gossip tick: same transmit budget, one hop faster. */
  private forwardFresh (rt: Runtime): void {
    if (!this.fresh) return
    this.fresh = false
    this.gossipNow(rt)
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

/** Whether a packet's sender is at a newer (generation, incarnation) than our record of it. */
function newerThan (sender: PacketSender, rec: MemberRecord): boolean {
  return sender.generation > rec.generation || (sender.generation === rec.generation && sender.incarnation > rec.incarnation)
}

import { MalformedPacketError, UnsupportedVersionError } from './errors.ts'
import { MEMBER_STATES } from './types.ts'
import type { MemberInfo } from './types.ts'

/**
 * The wire format (version 1), compact binary with LEB128 varints:
 *
 *   packet  = version:u8 clusterId:varint type:u8 sender to:str message updates broadcasts
 *   sender  = id:str addr:str generation:varint incarnation:varint known:varint
 *   updates = count:varint { state:u8 id:str addr:str generation:varint incarnation:varint meta:bytes [from:str if suspect] }
 *   broadcasts = count:varint { key:str payload:bytes }
 *
 * Message type tags and state codes are append-only: never renumber.
 */
export const WIRE_VERSION = 1

/** Message type tags (append-only). */
export const MESSAGE_TYPES = ['ping', 'ack', 'ping-req', 'indirect-ack', 'nack', 'feed', 'gossip', 'digest', 'who'] as const

/** A message type name. */
export type MessageType = typeof MESSAGE_TYPES[number]

/** Longest accepted member id, in UTF-8 bytes. */
export const MAX_ID_BYTES = 256
/** Longest accepted address, in UTF-8 bytes. */
export const MAX_ADDR_BYTES = 512
/** Largest accepted metadata or broadcast payload in one packet. */
export const MAX_BLOB_BYTES = 65_000
/**
 * Generations and incarnations on the wire are below this (2^48: a millisecond clock reaches it
 * in the year 10889). The ceiling leaves room to increment any accepted value and still encode it,
 * so a hostile huge incarnation can't push ours past what peers accept.
 */
export const MAX_COUNTER = 2 ** 48

/** The sender's identity, carried by every packet (replies go to this address, not the transport's). */
export interface PacketSender {
  id: string
  addr: string
  generation: number
  incarnation: number
  /** How many members (any state, itself included) the sender knows: a receiver that knows fewer pulls the full state. */
  known: number
}

/** The typed body of a packet. */
export type Message =
  | { type: 'ping', seq: number }
  | { type: 'ack', seq: number }
  | { type: 'ping-req', seq: number, targetId: string, targetAddr: string }
  | { type: 'indirect-ack', seq: number }
  | { type: 'nack', seq: number }
  /** Full-state chunk; `reply` asks the receiver to answer with its own full state. */
  | { type: 'feed', reply: boolean }
  | { type: 'gossip' }
  /** Asks the receiver for its own record (we got a packet from it but never heard of it). */
  | { type: 'who' }
  /** Digest of the sender's view; the receiver answers with a feed when its own differs. */
  | { type: 'digest', hi: number, lo: number, count: number }

/** A membership update: the state of one member at (generation, incarnation). */
export interface Update extends MemberInfo {
  /** For suspicions: who suspects (Lifeguard counts independent confirmations). */
  from?: string
}

/** A user broadcast piggybacked on SWIM traffic. */
export interface UserBroadcast {
  key: string
  payload: Uint8Array
}

/** A decoded packet. */
export interface Packet {
  clusterId: number
  sender: PacketSender
  /** Intended receiver's id, or '' when sent to a bare address. */
  to: string
  message: Message
  updates: Update[]
  broadcasts: UserBroadcast[]
}

const textEncoder = new TextEncoder()
const textDecoder = new TextDecoder('utf-8', { fatal: true })

/** A growable byte writer. */
export class ByteWriter {
  buf: Uint8Array
  len = 0
  constructor (size = 256) {
    this.buf = new Uint8Array(size)
  }

  private ensure (n: number): void {
    if (this.len + n <= this.buf.length) return
    let size = this.buf.length * 2
    while (size < this.len + n) size *= 2
    const next = new Uint8Array(size)
    next.set(this.buf.subarray(0, this.len))
    this.buf = next
  }

  /** One byte. */
  u8 (v: number): void {
    this.ensure(1)
    this.buf[this.len++] = v & 0xff
  }

  /** Unsigned integer up to 2^53 as LEB128. */
  varint (v: number): void {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`varint out of range: ${v}`)
    this.ensure(8)
    while (v >= 0x80) {
      this.buf[this.len++] = (v % 0x80) | 0x80
      v = Math.floor(v / 0x80)
    }
    this.buf[this.len++] = v
  }

  /** Length-prefixed bytes. */
  bytes (b: Uint8Array): void {
    this.varint(b.length)
    this.raw(b)
  }

  /** Bytes as they are, no length. */
  raw (b: Uint8Array): void {
    this.ensure(b.length)
    this.buf.set(b, this.len)
    this.len += b.length
  }

  /** A length-prefixed UTF-8 string. */
  str (s: string): void {
    // ASCII fast path (ids and addresses usually are): no intermediate buffer
    const n = s.length
    if (n < 128) {
      let ascii = true
      for (let i = 0; i < n; i++) {
        if (s.charCodeAt(i) > 0x7f) { ascii = false; break }
      }
      if (ascii) {
        this.ensure(n + 1)
        this.buf[this.len++] = n
        for (let i = 0; i < n; i++) this.buf[this.len++] = s.charCodeAt(i)
        return
      }
    }
    this.bytes(textEncoder.encode(s))
  }

  /** The bytes written so far, as a right-sized copy. */
  finish (): Uint8Array {
    return this.buf.slice(0, this.len)
  }
}

/** A bounds-checked byte reader; every failure is a MalformedPacketError. */
class ByteReader {
  pos = 0
  readonly buf: Uint8Array
  constructor (buf: Uint8Array) {
    this.buf = buf
  }

  u8 (what: string): number {
    const v = this.buf[this.pos]
    if (v === undefined) throw new MalformedPacketError(`Truncated packet while reading ${what} at byte ${this.pos}`)
    this.pos++
    return v
  }

  varint (what: string): number {
    let result = 0
    let mul = 1
    for (let i = 0; i < 8; i++) {
      const b = this.u8(what)
      result += (b & 0x7f) * mul
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(result)) break
        return result
      }
      mul *= 0x80
    }
    throw new MalformedPacketError(`Varint too long for ${what} at byte ${this.pos}`)
  }

  bytes (what: string, max: number): Uint8Array {
    const len = this.varint(`${what} length`)
    if (len > max) throw new MalformedPacketError(`${what} is ${len} bytes, over the ${max}-byte limit`)
    if (this.pos + len > this.buf.length) throw new MalformedPacketError(`Truncated packet: ${what} needs ${len} bytes, ${this.buf.length - this.pos} left`)
    const out = this.buf.slice(this.pos, this.pos + len)
    this.pos += len
    return out
  }

  str (what: string, max: number): string {
    const len = this.varint(`${what} length`)
    if (len > max) throw new MalformedPacketError(`${what} is ${len} bytes, over the ${max}-byte limit`)
    if (this.pos + len > this.buf.length) throw new MalformedPacketError(`Truncated packet: ${what} needs ${len} bytes, ${this.buf.length - this.pos} left`)
    const start = this.pos
    this.pos += len
    if (len < 64) {
      // ASCII fast path; anything else goes through the strict UTF-8 decoder
      let out = ''
      let i = start
      for (; i < start + len; i++) {
        const c = this.buf[i] as number
        if (c > 0x7f) break
        out += String.fromCharCode(c)
      }
      if (i === start + len) return out
    }
    const b = this.buf.subarray(start, start + len)
    try {
      return textDecoder.decode(b)
    } catch (err) {
      throw new MalformedPacketError(`${what} is not valid UTF-8`, { cause: err })
    }
  }
}

/** Encodes the fixed part of a packet: version, cluster, type, sender, receiver and message fields. */
export function encodeHead (clusterId: number, sender: PacketSender, to: string, message: Message): Uint8Array {
  const w = new ByteWriter(64 + sender.id.length + sender.addr.length + to.length)
  w.u8(WIRE_VERSION)
  w.varint(clusterId)
  w.u8(MESSAGE_TYPES.indexOf(message.type))
  w.str(sender.id)
  w.str(sender.addr)
  w.varint(sender.generation)
  w.varint(sender.incarnation)
  w.varint(sender.known)
  w.str(to)
  switch (message.type) {
    case 'ping': case 'ack': case 'indirect-ack': case 'nack':
      w.varint(message.seq)
      break
    case 'ping-req':
      w.varint(message.seq)
      w.str(message.targetId)
      w.str(message.targetAddr)
      break
    case 'feed':
      w.u8(message.reply ? 1 : 0)
      break
    case 'digest':
      w.varint(message.hi >>> 0)
      w.varint(message.lo >>> 0)
      w.varint(message.count)
      break
    case 'gossip': case 'who':
      break
  }
  return w.finish()
}

/** Encodes one update as it appears in the updates section. */
export function encodeUpdate (u: Update): Uint8Array {
  const w = new ByteWriter(32 + u.id.length + u.addr.length + u.meta.length)
  w.u8(MEMBER_STATES.indexOf(u.state))
  w.str(u.id)
  w.str(u.addr)
  w.varint(u.generation)
  w.varint(u.incarnation)
  w.bytes(u.meta)
  if (u.state === 'suspect') w.str(u.from ?? '')
  return w.finish()
}

/** Encodes one user broadcast as it appears in the broadcasts section. */
export function encodeBroadcast (b: UserBroadcast): Uint8Array {
  const w = new ByteWriter(8 + b.key.length + b.payload.length)
  w.str(b.key)
  w.bytes(b.payload)
  return w.finish()
}

/** Size of the varint encoding of n. */
export function varintSize (n: number): number {
  let size = 1
  while (n >= 0x80) {
    n = Math.floor(n / 0x80)
    size++
  }
  return size
}

/** Joins a head with pre-encoded updates and broadcasts into one packet. */
export function assemblePacket (head: Uint8Array, updates: readonly Uint8Array[], broadcasts: readonly Uint8Array[]): Uint8Array {
  let size = head.length + varintSize(updates.length) + varintSize(broadcasts.length)
  for (const u of updates) size += u.length
  for (const b of broadcasts) size += b.length
  const w = new ByteWriter(size)
  w.raw(head)
  w.varint(updates.length)
  for (const u of updates) w.raw(u)
  w.varint(broadcasts.length)
  for (const b of broadcasts) w.raw(b)
  return w.finish()
}

/** Encodes a whole packet (convenience for tests and tools). */
export function encodePacket (p: Packet): Uint8Array {
  return assemblePacket(encodeHead(p.clusterId, p.sender, p.to, p.message), p.updates.map(encodeUpdate), p.broadcasts.map(encodeBroadcast))
}

/**
 * Decodes a packet. Pure: throws MalformedPacketError (or UnsupportedVersionError) on anything
 * that is not exactly one well-formed packet, including trailing bytes.
 */
export function decodePacket (bytes: Uint8Array): Packet {
  if (!(bytes instanceof Uint8Array)) throw new MalformedPacketError('Packet must be a Uint8Array')
  if (bytes.length > MAX_BLOB_BYTES) throw new MalformedPacketError(`Packet of ${bytes.length} bytes is over the ${MAX_BLOB_BYTES}-byte limit`)
  const r = new ByteReader(bytes)
  const version = r.u8('version')
  if (version !== WIRE_VERSION) throw new UnsupportedVersionError(`Packet version ${version} is not supported (this node speaks ${WIRE_VERSION})`)
  const clusterId = r.varint('cluster id')
  if (clusterId > 0xffff_ffff) throw new MalformedPacketError(`Cluster id ${clusterId} out of range`)
  const tag = r.u8('message type')
  const type = MESSAGE_TYPES[tag]
  if (type === undefined) throw new MalformedPacketError(`Unknown message type ${tag}`)
  const sender: PacketSender = {
    id: r.str('sender id', MAX_ID_BYTES),
    addr: r.str('sender addr', MAX_ADDR_BYTES),
    generation: r.varint('sender generation'),
    incarnation: r.varint('sender incarnation'),
    known: r.varint('sender known count')
  }
  if (sender.id === '' || sender.addr === '') throw new MalformedPacketError('Sender id and addr must not be empty')
  counter(sender.generation, 'sender generation')
  counter(sender.incarnation, 'sender incarnation')
  const to = r.str('receiver id', MAX_ID_BYTES)
  let message: Message
  switch (type) {
    case 'ping': case 'ack': case 'indirect-ack': case 'nack':
      message = { type, seq: r.varint('seq') }
      break
    case 'ping-req': {
      const seq = r.varint('seq')
      const targetId = r.str('target id', MAX_ID_BYTES)
      const targetAddr = r.str('target addr', MAX_ADDR_BYTES)
      if (targetId === '' || targetAddr === '') throw new MalformedPacketError('ping-req target must not be empty')
      message = { type, seq, targetId, targetAddr }
      break
    }
    case 'feed': {
      const flags = r.u8('feed flags')
      if (flags > 1) throw new MalformedPacketError(`Unknown feed flags ${flags}`)
      message = { type, reply: flags === 1 }
      break
    }
    case 'digest': {
      const hi = r.varint('digest')
      const lo = r.varint('digest')
      if (hi > 0xffff_ffff || lo > 0xffff_ffff) throw new MalformedPacketError('Digest out of range')
      message = { type, hi, lo, count: r.varint('member count') }
      break
    }
    case 'gossip': case 'who':
      message = { type }
      break
  }
  const nUpdates = r.varint('update count')
  if (nUpdates > bytes.length) throw new MalformedPacketError(`Update count ${nUpdates} exceeds packet size`)
  const updates: Update[] = []
  for (let i = 0; i < nUpdates; i++) {
    const code = r.u8('update state')
    const state = MEMBER_STATES[code]
    if (state === undefined) throw new MalformedPacketError(`Unknown member state ${code} in update ${i}`)
    const u: Update = {
      state,
      id: r.str('member id', MAX_ID_BYTES),
      addr: r.str('member addr', MAX_ADDR_BYTES),
      generation: r.varint('member generation'),
      incarnation: r.varint('member incarnation'),
      meta: r.bytes('member meta', MAX_BLOB_BYTES)
    }
    if (u.id === '' || u.addr === '') throw new MalformedPacketError(`Update ${i} has an empty id or addr`)
    counter(u.generation, `update ${i} generation`)
    counter(u.incarnation, `update ${i} incarnation`)
    if (state === 'suspect') u.from = r.str('suspicion origin', MAX_ID_BYTES)
    updates.push(u)
  }
  const nBroadcasts = r.varint('broadcast count')
  if (nBroadcasts > bytes.length) throw new MalformedPacketError(`Broadcast count ${nBroadcasts} exceeds packet size`)
  const broadcasts: UserBroadcast[] = []
  for (let i = 0; i < nBroadcasts; i++) {
    broadcasts.push({ key: r.str('broadcast key', MAX_ID_BYTES), payload: r.bytes('broadcast payload', MAX_BLOB_BYTES) })
  }
  if (r.pos !== bytes.length) throw new MalformedPacketError(`${bytes.length - r.pos} trailing bytes after packet`)
  return { clusterId, sender, to, message, updates, broadcasts }
}

function counter (v: number, what: string): void {
  if (v >= MAX_COUNTER) throw new MalformedPacketError(`${what} ${v} is over the ${MAX_COUNTER} ceiling`)
}

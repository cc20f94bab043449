import { Packr } from 'msgpackr'
import { MalformedFrameError, UnknownTagError } from './errors.ts'

/** Version of the handshake and frame layout; bumped only for incompatible changes. */
export const WIRE_VERSION = 1

/** Longest holder hint of a broadcast item (16 peer hashes). */
export const MAX_HINT_BYTES = 64

/**
 * Frame tags. Append-only: a tag, once shipped, keeps its number and meaning.
 */
export const Tag = {
  Hello: 0,
  Challenge: 1,
  Proof: 2,
  Reject: 3,
  Batch: 10,
  Swim: 20,
  Summary: 30,
  Needs: 31,
  Chunk: 32,
  Done: 33,
  Again: 34
} as const

/** Reasons carried by a `Reject` frame. */
export const RejectReason = {
  Cluster: 1,
  Secret: 2,
  AllowList: 3,
  Busy: 4,
  NoSync: 5,
  Version: 6
} as const

/** Dialer → listener: opens every stream. */
export interface HelloMessage { tag: 0, version: number, clusterId: number, nonce: Uint8Array, addr: string }
/** Listener → dialer: cluster id, the listener's nonce and its proof (empty without a secret). */
export interface ChallengeMessage { tag: 1, version: number, clusterId: number, nonce: Uint8Array, mac: Uint8Array, addr: string }
/** Dialer → listener: the dialer's proof (empty without a secret). */
export interface ProofMessage { tag: 2, mac: Uint8Array }
/** Either side: admission or session refused. */
export interface RejectMessage { tag: 3, reason: number, message: string }
/**
 * One broadcast item: key, payload, and a hint naming (by 4-byte peer-id hash) peers the sender
 * knows to have it already, so the receiver spends its budget on others.
 */
export type BatchItem = [key: string, payload: Uint8Array, hint: Uint8Array]
/** Broadcast: keyed payloads batched into one frame. */
export interface BatchMessage { tag: 10, items: BatchItem[] }
/** SWIM: packets for the membership core. */
export interface SwimMessage { tag: 20, packets: Uint8Array[] }
/** Sync: the serving side's summary. */
export interface SummaryMessage { tag: 30, summary: Uint8Array }
/** Sync: what the client wants from this peer. */
export interface NeedsMessage { tag: 31, needs: Uint8Array }
/** Sync: one chunk of served data. */
export interface ChunkMessage { tag: 32, chunk: Uint8Array }
/** Sync: the sender has nothing more to send. */
export interface DoneMessage { tag: 33 }

/** Sync: the client starts another session on a stream whose last session ended cleanly. */
export interface AgainMessage { tag: 34 }

/** Every message that crosses the wire. */
export type Message = HelloMessage | ChallengeMessage | ProofMessage | RejectMessage | BatchMessage |
SwimMessage | SummaryMessage | NeedsMessage | ChunkMessage | DoneMessage | AgainMessage

const packr = new Packr({ useRecords: false, moreTypes: false, int64AsType: 'number', mapsAsObjects: true })

/** Encode a message as a msgpack array `[tag, ...fields]`. */
export function encodeMessage (msg: Message): Uint8Array {
  switch (msg.tag) {
    case Tag.Hello: return packr.pack([msg.tag, msg.version, msg.clusterId, msg.nonce, msg.addr])
    case Tag.Challenge: return packr.pack([msg.tag, msg.version, msg.clusterId, msg.nonce, msg.mac, msg.addr])
    case Tag.Proof: return packr.pack([msg.tag, msg.mac])
    case Tag.Reject: return packr.pack([msg.tag, msg.reason, msg.message])
    case Tag.Batch: return packr.pack([msg.tag, msg.items])
    case Tag.Swim: return packr.pack([msg.tag, msg.packets])
    case Tag.Summary: return packr.pack([msg.tag, msg.summary])
    case Tag.Needs: return packr.pack([msg.tag, msg.needs])
    case Tag.Chunk: return packr.pack([msg.tag, msg.chunk])
    case Tag.Done: return packr.pack([msg.tag])
    case Tag.Again: return packr.pack([msg.tag])
  }
}

/**
 * Decode and strictly validate one frame body. Throws {@link MalformedFrameError} or
 * {@link UnknownTagError}; never returns a half-valid message.
 */
export function decodeMessage (bytes: Uint8Array): Message {
  let value: unknown
  try {
    value = packr.unpack(bytes)
  } catch (err) {
    throw new MalformedFrameError(`frame is not valid msgpack: ${(err as Error).message}`, { cause: err })
  }
  if (!Array.isArray(value) || value.length === 0) throw new MalformedFrameError('frame must be a non-empty array')
  const tag: unknown = value[0]
  if (typeof tag !== 'number' || !Number.isInteger(tag)) throw new MalformedFrameError('frame tag must be an integer')
  const f = value as unknown[]
  switch (tag) {
    case Tag.Hello:
      arity(f, 5)
      return { tag, version: uint(f[1], 'version'), clusterId: uint(f[2], 'clusterId'), nonce: bin(f[3], 'nonce', 64), addr: str(f[4], 'addr', 512) }
    case Tag.Challenge:
      arity(f, 6)
      return { tag, version: uint(f[1], 'version'), clusterId: uint(f[2], 'clusterId'), nonce: bin(f[3], 'nonce', 64), mac: bin(f[4], 'mac', 64), addr: str(f[5], 'addr', 512) }
    case Tag.Proof:
      arity(f, 2)
      return { tag, mac: bin(f[1], 'mac', 64) }
    case Tag.Reject:
      arity(f, 3)
      return { tag, reason: uint(f[1], 'reason'), message: str(f[2], 'message', 1024) }
    case Tag.Batch: {
      arity(f, 2)
      const raw = f[1]
      if (!Array.isArray(raw)) throw new MalformedFrameError('batch items must be an array')
      const items: BatchItem[] = []
      for (const item of raw) {
        if (!Array.isArray(item) || item.length !== 3) throw new MalformedFrameError('batch item must be [key, payload, hint]')
        const hint = bin(item[2], 'hint', MAX_HINT_BYTES)
        if (hint.byteLength % 4 !== 0) throw new MalformedFrameError('hint length must be a multiple of 4')
        items.push([str(item[0], 'key', 4096), bin(item[1], 'payload'), hint])
      }
      return { tag, items }
    }
    case Tag.Swim: {
      arity(f, 2)
      const raw = f[1]
      if (!Array.isArray(raw)) throw new MalformedFrameError('swim packets must be an array')
      return { tag, packets: raw.map((p) => bin(p, 'packet')) }
    }
    case Tag.Summary:
      arity(f, 2)
      return { tag, summary: bin(f[1], 'summary') }
    case Tag.Needs:
      arity(f, 2)
      return { tag, needs: bin(f[1], 'needs') }
    case Tag.Chunk:
      arity(f, 2)
      return { tag, chunk: bin(f[1], 'chunk') }
    case Tag.Done:
    case Tag.Again:
      arity(f, 1)
      return { tag }
    default:
      throw new UnknownTagError(`unknown frame tag ${tag}`)
  }
}

function arity (f: unknown[], n: number): void {
  if (f.length !== n) throw new MalformedFrameError(`frame with tag ${String(f[0])} must have ${n} fields, got ${f.length}`)
}

function uint (v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new MalformedFrameError(`${field} must be a non-negative integer`)
  return v
}

function str (v: unknown, field: string, max: number): string {
  if (typeof v !== 'string') throw new MalformedFrameError(`${field} must be a string`)
  if (v.length > max) throw new MalformedFrameError(`${field} is longer than ${max} characters`)
  return v
}

function bin (v: unknown, field: string, max = Infinity): Uint8Array {
  if (!(v instanceof Uint8Array)) throw new MalformedFrameError(`${field} must be binary`)
  if (v.byteLength > max) throw new MalformedFrameError(`${field} is longer than ${max} bytes`)
  return v
}

import { createHash } from 'node:crypto'
import type { Multiaddr } from '@multiformats/multiaddr'
import { peerIdOf, toMultiaddr, withoutPeerId } from './address.ts'
import type { PeerView } from './broadcast-scheduler.ts'

/** One alive member as membership reports it. */
export interface MemberInfo {
  /** Multiaddr (with or without `/p2p/<id>`) or `host:port`. */
  addr: string
  /** libp2p peer id, when membership knows it. */
  peerId?: string | undefined
  /** Round-trip time measured by membership, in ms. */
  rttMs?: number | undefined
}

interface PeerEntry {
  id: string
  addr: Multiaddr
  rttMs: number | undefined
  memberRtt: boolean
}

/**
 * The alive set, keyed by peer id. Members given without a peer id wait in `unresolved` until a
 * dial tells us who answers at that address.
 */
export class PeerTable {
  readonly #self: string
  readonly #allow: ReadonlySet<string> | undefined
  #peers = new Map<string, PeerEntry>()
  #unresolved = new Map<string, Multiaddr>()
  // address (without /p2p/) → peer id learnt by dialing it; survives setMembers calls
  readonly #learnt = new Map<string, string>()
  #views: PeerView[] | undefined
  readonly #hashes = new Map<string, number>()
  #byHash: Map<number, string> | undefined

  constructor (self: string, allowList?: ReadonlySet<string>) {
    this.#self = self
    this.#allow = allowList
  }

  /** Replace the alive set. Invalid addresses are skipped and returned. */
  setMembers (members: readonly MemberInfo[]): string[] {
    const invalid: string[] = []
    const next = new Map<string, PeerEntry>()
    const unresolved = new Map<string, Multiaddr>()
    for (const m of members) {
      let ma: Multiaddr
      try {
        ma = toMultiaddr(m.addr)
      } catch {
        invalid.push(m.addr)
        continue
      }
      const base = withoutPeerId(ma)
      const id = m.peerId ?? peerIdOf(ma) ?? this.#learnt.get(base)
      if (id == null) {
        unresolved.set(base, ma)
        continue
      }
      if (id === this.#self) continue
      if (this.#allow != null && !this.#allow.has(id)) continue
      const old = this.#peers.get(id)
      const rttMs = m.rttMs ?? (old?.memberRtt === false ? old.rttMs : undefined)
      next.set(id, { id, addr: toMultiaddr(`${base}/p2p/${id}`), rttMs, memberRtt: m.rttMs != null })
    }
    this.#peers = next
    this.#unresolved = unresolved
    this.#views = undefined
    this.#byHash = undefined
    return invalid
  }

  /** Addresses still waiting for a peer id. */
  unresolved (): Array<[string, Multiaddr]> {
    return [...this.#unresolved.entries()]
  }

  /** Record who answered at `base` (an address without `/p2p/`). */
  learn (base: string, id: string): void {
    if (this.#learnt.size > 10_000) this.#learnt.clear()
    this.#learnt.set(base, id)
    const ma = this.#unresolved.get(base)
    if (ma == null) return
    this.#unresolved.delete(base)
    if (id === this.#self || (this.#allow != null && !this.#allow.has(id))) return
    if (!this.#peers.has(id)) {
      this.#peers.set(id, { id, addr: toMultiaddr(`${base}/p2p/${id}`), rttMs: undefined, memberRtt: false })
      this.#views = undefined
      this.#byHash = undefined
    }
  }

  /** Record a measured RTT unless membership supplies one. */
  noteRtt (id: string, rttMs: number): void {
    const p = this.#peers.get(id)
    if (p == null || p.memberRtt) return
    // smoothed like TCP's SRTT so one slow handshake doesn't reorder the rings
    p.rttMs = p.rttMs == null ? rttMs : p.rttMs * 0.8 + rttMs * 0.2
    this.#views = undefined
  }

  /** The dialable address of `id`. */
  addrOf (id: string): Multiaddr | undefined {
    return this.#peers.get(id)?.addr
  }

  /** True when `id` is in the alive set. */
  has (id: string): boolean {
    return this.#peers.has(id)
  }

  /** Alive peers (cached until the set changes). */
  views (): PeerView[] {
    this.#views ??= [...this.#peers.values()].map((p) => ({ id: p.id, rttMs: p.rttMs }))
    return this.#views
  }

  /** A 4-byte hash naming `id` compactly in holder hints. */
  hashOf (id: string): number {
    let h = this.#hashes.get(id)
    if (h == null) {
      h = createHash('sha256').update(id).digest().readUInt32BE(0)
      if (this.#hashes.size > 100_000) this.#hashes.clear()
      this.#hashes.set(id, h)
    }
    return h
  }

  /** Encode peer ids as a holder hint. */
  encodeHint (ids: readonly string[]): Uint8Array {
    const out = new Uint8Array(ids.length * 4)
    const view = new DataView(out.buffer)
    ids.forEach((id, i) => { view.setUint32(i * 4, this.hashOf(id)) })
    return out
  }

  /** Alive peers named by a holder hint (unknown hashes are ignored). */
  decodeHint (hint: Uint8Array): string[] {
    if (hint.byteLength === 0) return []
    if (this.#byHash == null) {
      this.#byHash = new Map()
      for (const id of this.#peers.keys()) this.#byHash.set(this.hashOf(id), id)
    }
    // big-endian u32s read by hand: this runs per received payload, a DataView would be garbage
    const out: string[] = []
    for (let i = 0; i + 4 <= hint.byteLength; i += 4) {
      const h = ((hint[i]! << 24) | (hint[i + 1]! << 16) | (hint[i + 2]! << 8) | hint[i + 3]!) >>> 0
      const id = this.#byHash.get(h)
      if (id != null) out.push(id)
    }
    return out
  }

  /** Number of alive peers (self excluded). */
  get size (): number {
    return this.#peers.size
  }
}

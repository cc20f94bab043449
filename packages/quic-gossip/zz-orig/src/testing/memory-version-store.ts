import { createHash, randomUUID } from 'node:crypto'
import { Packr } from 'msgpackr'
import { MalformedFrameError } from '../errors.ts'
import type { PeerNeeds, RemoteSummary, SyncPort } from '../sync-port.ts'
import { RangeSet } from './range-set.ts'
import type { Range } from './range-set.ts'

/** Options of {@link MemoryVersionStore}. */
export interface MemoryVersionStoreInit {
  /** This writer's origin id. Default: a random UUID. */
  origin?: string
  /** Served chunks stay under this many bytes (one oversized item still goes alone). Default 64 KiB. */
  maxChunkBytes?: number
  /** Needs are split into blocks of this many sequence numbers to spread them across peers. Default 512. */
  blockSize?: number
}

const packr = new Packr({ useRecords: false, moreTypes: false })

function decodeOrThrow (bytes: Uint8Array, what: string): unknown {
  try {
    return packr.unpack(bytes)
  } catch (err) {
    throw new MalformedFrameError(`${what} is not valid msgpack`, { cause: err })
  }
}

function isSeq (v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v > 0
}

function rangesOf (v: unknown, what: string): Range[] {
  if (!Array.isArray(v)) throw new MalformedFrameError(`${what}: ranges must be an array`)
  return v.map((r) => {
    if (!Array.isArray(r) || r.length !== 2 || !isSeq(r[0]) || !isSeq(r[1]) || r[1] < r[0]) {
      throw new MalformedFrameError(`${what}: bad range`)
    }
    return [r[0], r[1]] as Range
  })
}

function vectorOf (bytes: Uint8Array, what: string): Map<string, RangeSet> {
  const v = decodeOrThrow(bytes, what)
  if (!Array.isArray(v)) throw new MalformedFrameError(`${what} must be an array`)
  const out = new Map<string, RangeSet>()
  for (const entry of v) {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string') throw new MalformedFrameError(`${what}: bad entry`)
    out.set(entry[0], new RangeSet(rangesOf(entry[1], what)))
  }
  return out
}

function encodeVector (v: Map<string, RangeSet>): Uint8Array {
  return packr.pack([...v].filter(([, r]) => r.count() > 0).map(([o, r]) => [o, r.ranges()]))
}

/**
 * A real in-memory store of `(origin, seq) → payload` with per-origin version vectors (range sets,
 * so gaps are expressible). It implements {@link SyncPort}, so it is the "store" for this
 * package's tests, benchmarks and compliance suite.
 */
export class MemoryVersionStore implements SyncPort {
  readonly origin: string
  readonly #items = new Map<string, Map<number, Uint8Array>>()
  readonly #held = new Map<string, RangeSet>()
  readonly #maxChunkBytes: number
  readonly #blockSize: number
  #seq = 0
  #count = 0

  constructor (init: MemoryVersionStoreInit = {}) {
    this.origin = init.origin ?? randomUUID()
    this.#maxChunkBytes = init.maxChunkBytes ?? 64 * 1024
    this.#blockSize = init.blockSize ?? 512
  }

  /** Encode one item as a broadcast payload. */
  static encodeItem (origin: string, seq: number, data: Uint8Array): Uint8Array {
    return packr.pack([origin, seq, data])
  }

  /** Decode a broadcast payload; throws `MalformedFrameError` on bad bytes. */
  static decodeItem (payload: Uint8Array): { origin: string, seq: number, data: Uint8Array } {
    const v = decodeOrThrow(payload, 'item')
    if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'string' || !isSeq(v[1]) || !(v[2] instanceof Uint8Array)) {
      throw new MalformedFrameError('item must be [origin, seq, bytes]')
    }
    return { origin: v[0], seq: v[1], data: v[2] }
  }

  /** The broadcast key of an encoded item: `origin/seq`. */
  static keyOf (payload: Uint8Array): string {
    const { origin, seq } = MemoryVersionStore.decodeItem(payload)
    return `${origin}/${seq}`
  }

  /** Items held. */
  get size (): number {
    return this.#count
  }

  /** Write a new local item; returns its broadcast payload. */
  write (data: Uint8Array): Uint8Array {
    const seq = ++this.#seq
    this.put(this.origin, seq, data)
    return MemoryVersionStore.encodeItem(this.origin, seq, data)
  }

  /** Store an item; false when it was already held. */
  put (origin: string, seq: number, data: Uint8Array): boolean {
    let held = this.#held.get(origin)
    if (held == null) {
      held = new RangeSet()
      this.#held.set(origin, held)
      this.#items.set(origin, new Map())
    }
    if (held.has(seq)) return false
    held.add(seq)
    this.#items.get(origin)?.set(seq, data)
    this.#count++
    if (origin === this.origin && seq > this.#seq) this.#seq = seq
    return true
  }

  /** Apply a broadcast payload; false when already held (so gossip does not re-broadcast it). */
  applyBroadcast (payload: Uint8Array): boolean {
    const { origin, seq, data } = MemoryVersionStore.decodeItem(payload)
    return this.put(origin, seq, data)
  }

  /** True when the item named by `origin/seq` is held. */
  has (key: string): boolean {
    const i = key.lastIndexOf('/')
    return this.#held.get(key.slice(0, i))?.has(Number(key.slice(i + 1))) ?? false
  }

  /** The held data of one item. */
  get (origin: string, seq: number): Uint8Array | undefined {
    return this.#items.get(origin)?.get(seq)
  }

  /** Content hash over every item, order-independent: equal digests = equal stores. */
  digest (): string {
    const h = createHash('sha256')
    for (const origin of [...this.#items.keys()].sort()) {
      const items = this.#items.get(origin) ?? new Map<number, Uint8Array>()
      for (const seq of [...items.keys()].sort((a, b) => a - b)) {
        h.update(`${origin}/${seq}:`)
        h.update(items.get(seq) ?? new Uint8Array(0))
      }
    }
    return h.digest('hex')
  }

  summary (): Uint8Array {
    return encodeVector(this.#held)
  }

  needs (remotes: RemoteSummary[]): PeerNeeds[] {
    const missing = remotes.map((r) => {
      const theirs = vectorOf(r.summary, 'summary')
      const m = new Map<string, RangeSet>()
      for (const [origin, ranges] of theirs) {
        const lack = ranges.subtract(this.#held.get(origin) ?? new RangeSet())
        if (lack.count() > 0) m.set(origin, lack)
      }
      return m
    })
    const assigned = remotes.map(() => new Map<string, RangeSet>())
    const load = remotes.map(() => 0)
    const origins = new Set(missing.flatMap((m) => [...m.keys()]))
    for (const origin of origins) {
      const union = new RangeSet()
      for (const m of missing) for (const [s, e] of m.get(origin)?.ranges() ?? []) union.addRange(s, e)
      // cut into blocks, give each block to the least-loaded peers that hold it (disjointly)
      for (const [s, e] of union.ranges()) {
        for (let b = s; b <= e; b += this.#blockSize) {
          let rest = new RangeSet([[b, Math.min(e, b + this.#blockSize - 1)]])
          const order = remotes.map((_, i) => i).sort((x, y) => (load[x] ?? 0) - (load[y] ?? 0))
          for (const i of order) {
            if (rest.count() === 0) break
            const part = rest.intersect(missing[i]?.get(origin) ?? new RangeSet())
            const n = part.count()
            if (n === 0) continue
            const a = assigned[i] as Map<string, RangeSet>
            let set = a.get(origin)
            if (set == null) a.set(origin, set = new RangeSet())
            for (const [ps, pe] of part.ranges()) set.addRange(ps, pe)
            load[i] = (load[i] ?? 0) + n
            rest = rest.subtract(part)
          }
        }
      }
    }
    return remotes.map((r, i) => ({ peer: r.peer, needs: (assigned[i]?.size ?? 0) > 0 ? encodeVector(assigned[i] as Map<string, RangeSet>) : new Uint8Array(0) }))
  }

  * serve (needs: Uint8Array): Iterable<Uint8Array> {
    const want = vectorOf(needs, 'needs')
    let batch: Array<[string, number, Uint8Array]> = []
    let bytes = 0
    for (const [origin, ranges] of want) {
      const items = this.#items.get(origin)
      if (items == null) continue
      for (const [s, e] of ranges.intersect(this.#held.get(origin) ?? new RangeSet()).ranges()) {
        for (let seq = s; seq <= e; seq++) {
          const data = items.get(seq)
          if (data == null) continue
          const cost = data.byteLength + origin.length + 16
          if (batch.length > 0 && bytes + cost > this.#maxChunkBytes) {
            yield packr.pack(batch)
            batch = []
            bytes = 0
          }
          batch.push([origin, seq, data])
          bytes += cost
        }
      }
    }
    if (batch.length > 0) yield packr.pack(batch)
  }

  apply (chunk: Uint8Array): void {
    const v = decodeOrThrow(chunk, 'chunk')
    if (!Array.isArray(v)) throw new MalformedFrameError('chunk must be an array')
    // validate everything first so a bad chunk changes nothing
    for (const item of v) {
      if (!Array.isArray(item) || item.length !== 3 || typeof item[0] !== 'string' || !isSeq(item[1]) || !(item[2] instanceof Uint8Array)) {
        throw new MalformedFrameError('chunk item must be [origin, seq, bytes]')
      }
    }
    for (const item of v as Array<[string, number, Uint8Array]>) this.put(item[0], item[1], item[2])
  }
}

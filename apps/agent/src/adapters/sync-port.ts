import { encodeChangeset, decodeChangeset, encodeSummary, decodeSummary, encodeNeeds, decodeNeeds } from '@patina/crdt-store'
import type { ActorNeeds, ApplyResult, Changeset, CrdtStore, SyncNeeds, SyncSummary } from '@patina/crdt-store'
import type { Logger } from 'pino'
import { AgedHeads, clipSummary } from './aged-heads.ts'

/** The sync port quic-gossip drives (opaque bytes). */
export interface SyncPortBytes {
  summary(): Uint8Array
  needs(remotes: Array<{ peer: string; summary: Uint8Array }>): Array<{ peer: string; needs: Uint8Array }>
  serve(needs: Uint8Array, options?: { signal?: AbortSignal }): Iterable<Uint8Array>
  apply(chunk: Uint8Array): void
  /** Runs `round` with the grace period off, so it asks for everything peers hold (a manual sync). */
  eager<T>(round: () => Promise<T>): Promise<T>
}

/** Options of the sync port adapter. */
export interface SyncPortInit {
  store: Pick<CrdtStore, 'summary' | 'needs' | 'serve' | 'applyBatch'>
  guard: <T>(fn: () => T) => T
  logger: Logger
  /** Called for each changeset applied from sync (fresh = it changed something we lacked), with its broadcast key. */
  onApplied?: (fresh: boolean, key: string) => void
  /** Target bytes of changesets per sync chunk (default 256 KiB). */
  chunkBytes?: number
  /**
   * Ask only for versions some peer announced at least this long ago (default 0: everything); the
   * newer ones are most likely still arriving by broadcast. See {@link AgedHeads}.
   */
  graceMs?: number
  /** Clock for the grace period (default `performance.now`). */
  now?: () => number
  /** Randomness for choosing between equally good peers (default `Math.random`). */
  random?: () => number
}

/** How many versions (whole, or partly as missing seqs) one actor's needs ask for. */
function needCount (n: ActorNeeds): number {
  let count = n.partial.length
  for (const [a, b] of n.full) count += b - a + 1
  return count
}

/**
 * Adapts the crdt-store to quic-gossip's sync port: summaries and needs travel as the store's codec
 * bytes; served changesets are packed several per chunk (u32 length + changeset bytes each) so a
 * catch-up of many small versions does not cost a frame per version.
 */
export function createSyncPort (init: SyncPortInit): SyncPortBytes {
  const { store, guard } = init
  const chunkBytes = init.chunkBytes ?? 256 * 1024
  const aged = new AgedHeads(init.graceMs ?? 0)
  const now = init.now ?? (() => performance.now())
  const random = init.random ?? Math.random
  let eager = 0
  return {
    async eager (round) {
      eager++
      try { return await round() } finally { eager-- }
    },
    summary () {
      return encodeSummary(guard(() => store.summary()))
    },
    needs (remotes) {
      const decoded: Array<{ peer: string; summary: SyncSummary }> = []
      for (const r of remotes) {
        try {
          decoded.push({ peer: r.peer, summary: decodeSummary(r.summary) })
        } catch (err) {
          init.logger.warn({ peer: r.peer, err: (err as Error).message }, 'malformed sync summary')
        }
      }
      // the aged head of an actor is the greatest any peer announced, once old enough
      const t = now()
      const highest = new Map<string, number>()
      for (const { summary } of decoded) {
        for (const a of summary.actors) {
          const key = Buffer.from(a.actor).toString('hex')
          if (a.head > (highest.get(key) ?? 0)) highest.set(key, a.head)
        }
      }
      for (const [key, head] of highest) aged.observe(key, head, t)
      // What each peer could send of what we lack, per actor; each actor is then asked from one
      // peer only: the one that could send the most of it (then the higher head, then chance). The
      // peer with the highest head may lack the very versions we lack (its own gaps): asking it
      // would get nothing, round after round.
      const best = new Map<string, { peer: string; needs: ActorNeeds; count: number; head: number }>()
      for (const { peer, summary } of decoded) {
        const heads = new Map<string, number>()
        const actors: SyncSummary['actors'] = []
        for (const a of summary.actors) {
          const key = Buffer.from(a.actor).toString('hex')
          const head = eager > 0 ? a.head : Math.min(a.head, aged.aged(key, t))
          heads.set(key, a.head)
          if (head > 0) actors.push(clipSummary(a, head))
        }
        if (actors.length === 0) continue
        for (const n of guard(() => store.needs({ ...summary, actors })).actors) {
          const key = Buffer.from(n.actor).toString('hex')
          const count = needCount(n)
          const head = heads.get(key) ?? 0
          const cur = best.get(key)
          if (cur === undefined || count > cur.count || (count === cur.count && (head > cur.head || (head === cur.head && random() < 0.5)))) {
            best.set(key, { peer, needs: n, count, head })
          }
        }
      }
      const byPeer = new Map<string, ActorNeeds[]>()
      for (const b of best.values()) {
        const list = byPeer.get(b.peer)
        if (list === undefined) byPeer.set(b.peer, [b.needs])
        else list.push(b.needs)
      }
      return [...byPeer].map(([peer, actors]) => ({ peer, needs: encodeNeeds({ actors }) }))
    },
    * serve (bytes, options) {
      const needs: SyncNeeds = decodeNeeds(bytes)
      let parts: Uint8Array[] = []
      let size = 0
      const it = guard(() => store.serve(needs))[Symbol.iterator]()
      for (;;) {
        // Changesets are read lazily; a fatal storage error while reading must stop the node too.
        const step = guard(() => it.next())
        if (step.done === true) break
        const cs = step.value
        options?.signal?.throwIfAborted()
        const enc = encodeChangeset(cs)
        const head = Buffer.alloc(4)
        head.writeUInt32BE(enc.length, 0)
        parts.push(head, enc)
        size += 4 + enc.length
        if (size >= chunkBytes) {
          yield Buffer.concat(parts)
          parts = []
          size = 0
        }
      }
      if (size > 0) yield Buffer.concat(parts)
    },
    apply (chunk) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      let off = 0
      const list: Changeset[] = []
      let bad: Error | undefined
      try {
        while (off < buf.length) {
          if (off + 4 > buf.length) throw new RangeError('truncated sync chunk')
          const len = buf.readUInt32BE(off)
          if (off + 4 + len > buf.length) throw new RangeError('truncated sync chunk')
          list.push(decodeChangeset(buf.subarray(off + 4, off + 4 + len)))
          off += 4 + len
        }
      } catch (err) { bad = err as Error }
      // what decoded before a damaged part is still good: apply it (in one transaction), then refuse the rest
      let failed = 0
      let lastError: Error | undefined
      if (list.length > 0) {
        const results = guard(() => store.applyBatch(list))
        for (const [i, result] of results.entries()) {
          // one bad changeset (e.g. a table this node's schema lacks yet) must not block the rest
          if (result instanceof Error) { failed++; lastError = result; continue }
          init.onApplied?.(isNewHere(result), changesetKey(list[i]!))
        }
      }
      if (failed > 0) init.logger.warn({ failed, err: lastError?.message, name: lastError?.name }, 'some synced changesets could not be applied')
      if (bad !== undefined) throw bad
    }
  }
}

/** Whether applying a changeset taught this store something (so gossip should pass it on). */
export function isNewHere (result: ApplyResult): boolean {
  return result.status === 'applied' || result.status === 'buffered' || result.status === 'cleared'
}

/** The broadcast key of a changeset: `<actor hex>:<version>:<first seq>`. */
export function changesetKey (cs: { actor: Uint8Array; version: number; seqs: readonly [number, number] }): string {
  return `${Buffer.from(cs.actor).toString('hex')}:${cs.version}:${cs.seqs[0]}`
}

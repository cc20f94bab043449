import { isKnown } from './bookkeeping.ts'
import { decodeChangeset, unpackInternal } from './codec.ts'
import { hex } from './hex.ts'
import { contains, countRanges, intersect, normalize, removeRangesFrom } from './ranges.ts'
import type { Range } from './ranges.ts'
import type { StoreState } from './store-state.ts'
import { computeNeeds, summarize } from './sync-plan.ts'
import type { ActorStatus, Change, Changeset, SyncNeeds, SyncSummary } from './types.ts'
import { versionChanges, chunkVersion } from './version-reader.ts'
import type { RowList } from './version-reader.ts'

/** The read side of sync: what a store holds, what it lacks, and the changesets it serves. */
export interface SyncServe {
  summary(): SyncSummary
  needs(remote: SyncSummary): SyncNeeds
  serve(needs: SyncNeeds): Iterable<Changeset>
  changes(actor: Uint8Array, from: number, to: number): Change[]
  syncStatus(): ActorStatus[]
  gapCount(): number
  /** The changesets (chunks) of one complete version held, empty when not held. */
  versionChangesets(ord: number, actor: Uint8Array, version: number): Changeset[]
}

/** Creates the sync-serving part of a store. */
export function syncServe (state: StoreState): SyncServe {
  const { st, books, tables, chunkBytes, alive } = state

  const readVersion = (ord: number, version: number): { ts: bigint; lastSeq: number; rows: RowList } | undefined => {
    const r = st.getVersion.get(ord, version) as { ts: bigint; last_seq: bigint; rows: Buffer } | undefined
    if (r == null) return undefined
    return { ts: BigInt.asUintN(64, r.ts), lastSeq: Number(r.last_seq), rows: unpackInternal(r.rows) as RowList }
  }

  const versionChangesets = (ord: number, actor: Uint8Array, version: number): Changeset[] => {
    const v = readVersion(ord, version)
    if (v == null) return []
    return chunkVersion(actor, version, v.lastSeq, v.ts, versionChanges(tables, v.rows, ord, version, actor), chunkBytes)
  }

  function summary (): SyncSummary {
    alive()
    return summarize(books.values())
  }

  function needs (remote: SyncSummary): SyncNeeds {
    alive()
    return computeNeeds(books, remote)
  }

  function * serveGen (req: SyncNeeds): Generator<Changeset> {
    for (const a of req.actors) {
      alive()
      const h = hex(a.actor)
      const book = books.get(h)
      if (book == null) continue
      const emitVersion = function * (v: number, want?: Range[]): Generator<Changeset> {
        alive()
        const overlaps = (cs: Changeset): boolean => want == null || intersect([cs.seqs], want).length > 0
        if (isKnown(book, v)) {
          for (const cs of versionChangesets(book.ord, book.siteId, v)) if (overlaps(cs)) yield cs
        } else if (book.partials.has(v)) {
          for (const r of st.getBuffer.all(book.ord, v) as { data: Buffer }[]) {
            const cs = decodeChangeset(r.data)
            if (overlaps(cs)) yield cs
          }
        }
      }
      // walk only versions held: known ones through the versions index, partial ones from the buffer
      const known = removeRangesFrom([[1, book.head]], book.gaps)
      const wantFull = normalize(a.full)
      for (const [from, to] of intersect(wantFull, known)) {
        let next = from
        while (next <= to) {
          const page = st.versionPage.all(book.ord, next, to) as { dbv: bigint }[]
          if (page.length === 0) break
          for (const r of page) yield * emitVersion(Number(r.dbv))
          next = Number(page[page.length - 1]!.dbv) + 1
        }
      }
      for (const v of [...book.partials.keys()].sort((x, y) => x - y)) {
        if (contains(wantFull, v)) yield * emitVersion(v)
      }
      for (const p of a.partial) yield * emitVersion(p.version, normalize(p.seqs))
    }
  }

  function changes (actor: Uint8Array, from: number, to: number): Change[] {
    alive()
    const book = books.get(hex(actor))
    if (book == null) return []
    const out: Change[] = []
    for (const r of st.versionRange.iterate(book.ord, from, to) as IterableIterator<{ dbv: bigint; rows: Buffer }>) {
      for (const c of versionChanges(tables, unpackInternal(r.rows) as RowList, book.ord, Number(r.dbv), book.siteId)) out.push(c)
    }
    return out
  }

  return {
    summary,
    needs,
    serve (req) { alive(); return serveGen(req) },
    changes,
    syncStatus () {
      alive()
      return [...books.values()].filter(b => b.head > 0 || b.partials.size > 0).map(b => ({
        actor: b.hex,
        head: b.head,
        gaps: b.gaps.map(r => [r[0], r[1]] as Range),
        partials: [...b.partials].sort((x, y) => x[0] - y[0]).map(([version, p]) => ({ version, seqs: p.seqs.map(r => [r[0], r[1]] as Range), lastSeq: p.lastSeq }))
      }))
    },
    gapCount () {
      alive()
      let n = 0
      for (const b of books.values()) n += countRanges(b.gaps)
      return n
    },
    versionChangesets
  }
}

import type { Book } from './bookkeeping.ts'
import { hex } from './hex.ts'
import { contains, intersect, normalize, removeRangesFrom } from './ranges.ts'
import type { Range } from './ranges.ts'
import type { SyncNeeds, SyncSummary } from './types.ts'

/** What a set of books holds, as a peer sees it (actors with nothing are left out). */
export function summarize (books: Iterable<Book>): SyncSummary {
  return {
    actors: [...books].filter(b => b.head > 0 || b.partials.size > 0).map(b => ({
      actor: b.siteId,
      head: b.head,
      gaps: b.gaps.map(r => [r[0], r[1]] as Range),
      partials: [...b.partials].sort((x, y) => x[0] - y[0]).map(([version, p]) => ({ version, seqs: p.seqs.map(r => [r[0], r[1]] as Range), lastSeq: p.lastSeq }))
    }))
  }
}

function union (a: readonly Range[], b: readonly Range[]): Range[] {
  return normalize([...a, ...b])
}

/**
 * What `books` (this store, keyed by actor hex) lacks that `remote` holds: whole versions the remote
 * has complete, and missing seq ranges of versions either side holds only in part. A pure function
 * of the two states.
 */
export function computeNeeds (books: ReadonlyMap<string, Book>, remote: SyncSummary): SyncNeeds {
  const out: SyncNeeds = { actors: [] }
  for (const r of remote.actors) {
    if (r.head <= 0) continue
    const mine = books.get(hex(r.actor))
    const myHead = mine?.head ?? 0
    const myGaps = mine?.gaps ?? []
    // versions we do not hold completely, up to the remote's head
    const lacking = union(myGaps.filter(g => g[0] <= r.head).map(g => [g[0], Math.min(g[1], r.head)] as Range), myHead < r.head ? [[myHead + 1, r.head]] : [])
    const remoteFull = removeRangesFrom([[1, r.head]], normalize(r.gaps))
    const remotePartials = new Map(r.partials.map(p => [p.version, { ...p, seqs: normalize(p.seqs) }]))
    let full = intersect(lacking, remoteFull)
    const partial: { version: number; seqs: Range[] }[] = []
    for (const [v, p] of mine?.partials ?? []) {
      if (!contains(lacking, v)) continue
      if (contains(remoteFull, v)) {
        full = removeRangesFrom(full, [[v, v]])
        const miss = removeRangesFrom([[0, p.lastSeq]], p.seqs)
        if (miss.length > 0) partial.push({ version: v, seqs: miss })
      } else if (remotePartials.has(v)) {
        const miss = removeRangesFrom(remotePartials.get(v)!.seqs, p.seqs)
        if (miss.length > 0) partial.push({ version: v, seqs: miss })
      }
    }
    for (const [v, p] of remotePartials) {
      if (!contains(lacking, v) || mine?.partials.has(v) === true) continue
      partial.push({ version: v, seqs: p.seqs.map(x => [x[0], x[1]] as Range) })
    }
    if (full.length > 0 || partial.length > 0) out.actors.push({ actor: r.actor, full, partial })
  }
  return out
}

import type { Database, Statement } from 'better-sqlite3'
import { addRange, contains, removeRange } from './ranges.ts'
import type { Range } from './ranges.ts'

/** A partially received version. */
export interface Partial {
  seqs: Range[]
  lastSeq: number
  ts: bigint
}

/** What this store holds of one actor. */
export interface Book {
  ord: number
  siteId: Uint8Array
  hex: string
  /** Highest version seen (complete or partial). */
  head: number
  /** Versions at or below head that are missing or only partial. */
  gaps: Range[]
  partials: Map<number, Partial>
}

/**
 * A copy that a transaction can change while the original stays as it was, so a failed
 * transaction can drop its changes. Range lists are shared: they are replaced, never changed in
 * place (see ranges.ts); partial records are copied, as applying a chunk updates them.
 */
export function cloneBook (b: Book): Book {
  const partials = new Map<number, Partial>()
  for (const [k, p] of b.partials) partials.set(k, { ...p })
  return { ...b, partials }
}

/** True when the version is fully here. */
export function isKnown (b: Book, v: number): boolean {
  return v <= b.head && !contains(b.gaps, v)
}

/** Records that a version is fully here. */
export function markKnown (b: Book, v: number): void {
  if (v > b.head) {
    if (v > b.head + 1) b.gaps = addRange(b.gaps, b.head + 1, v - 1)
    b.head = v
  } else {
    b.gaps = removeRange(b.gaps, v, v)
  }
  b.partials.delete(v)
}

/** Records that a version is partially here (it stays counted as a gap). */
export function markPartial (b: Book, v: number): void {
  if (v > b.head) {
    b.gaps = addRange(b.gaps, b.head + 1, v)
    b.head = v
  }
}

/** Statements persisting bookkeeping in the data's transaction. */
export interface BookStore {
  /**
   * Persists head and gaps; with `before`, only the gap rows that differ from it are written, and
   * with `headBefore`, the head only when it moved.
   */
  save(b: Book, before?: readonly Range[], headBefore?: number): void
  savePartial(b: Book, v: number): void
  load(): { ord: number; head: number; gaps: Range[]; partials: Map<number, Partial> }[]
}

/** Prepares the bookkeeping statements. */
export function bookStore (db: Database): BookStore {
  const setHead: Statement = db.prepare('INSERT INTO __patina_heads (site, head) VALUES (?, ?) ON CONFLICT (site) DO UPDATE SET head = excluded.head')
  const delGaps = db.prepare('DELETE FROM __patina_gaps WHERE site = ?')
  const addGap = db.prepare('INSERT OR REPLACE INTO __patina_gaps (site, start, "end") VALUES (?, ?, ?)')
  const delGap = db.prepare('DELETE FROM __patina_gaps WHERE site = ? AND start = ?')
  const putPartial = db.prepare('INSERT OR REPLACE INTO __patina_partials (site, dbv, last_seq, ts, seqs) VALUES (?, ?, ?, ?, ?)')
  const delPartial = db.prepare('DELETE FROM __patina_partials WHERE site = ? AND dbv = ?')
  return {
    save (b, before, headBefore) {
      // a head above 0 was written when it got there; a 0 head may never have been (an actor seen
      // only through buffered chunks), so it is always written
      if (headBefore !== b.head || b.head === 0) setHead.run(b.ord, b.head)
      if (before == null) {
        delGaps.run(b.ord)
        for (const [s, e] of b.gaps) addGap.run(b.ord, s, e)
        return
      }
      // both lists are sorted and disjoint: walk them together, touch only what changed
      let i = 0
      let j = 0
      const old = before
      const cur = b.gaps
      while (i < old.length || j < cur.length) {
        const o = old[i]
        const c = cur[j]
        if (o != null && c != null && o[0] === c[0] && o[1] === c[1]) { i++; j++; continue }
        if (c == null || (o != null && o[0] <= c[0])) { delGap.run(b.ord, o![0]); i++; continue }
        addGap.run(b.ord, c[0], c[1])
        j++
      }
    },
    savePartial (b, v) {
      const p = b.partials.get(v)
      if (p == null) delPartial.run(b.ord, v)
      else putPartial.run(b.ord, v, p.lastSeq, BigInt.asIntN(64, p.ts), JSON.stringify(p.seqs))
    },
    load () {
      const heads = db.prepare('SELECT site, head FROM __patina_heads').all() as { site: number; head: number }[]
      const gaps = db.prepare('SELECT site, start, "end" AS e FROM __patina_gaps ORDER BY site, start').all() as { site: number; start: number; e: number }[]
      const parts = db.prepare('SELECT site, dbv, last_seq AS lastSeq, ts, seqs FROM __patina_partials').safeIntegers(true).all() as { site: bigint; dbv: bigint; lastSeq: bigint; ts: bigint; seqs: string }[]
      return heads.map(h => ({
        ord: h.site,
        head: h.head,
        gaps: gaps.filter(g => g.site === h.site).map(g => [g.start, g.e] as Range),
        partials: new Map(parts.filter(p => Number(p.site) === h.site).map(p => [Number(p.dbv), { lastSeq: Number(p.lastSeq), ts: BigInt.asUintN(64, p.ts), seqs: JSON.parse(p.seqs) as Range[] }]))
      }))
    }
  }
}

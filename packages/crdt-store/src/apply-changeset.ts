import { cloneBook, isKnown, markKnown, markPartial } from './bookkeeping.ts'
import type { Book } from './bookkeeping.ts'
import { encodeChangeset, decodeChangeset, packInternal } from './codec.ts'
import { MAX_SEQ, MAX_VERSION } from './crr-sql.ts'
import { MalformedChangesetError } from './errors.ts'
import { hex } from './hex.ts'
import { groupChanges, mergeGroups } from './merge.ts'
import type { RowTouch } from './merge.ts'
import { addRange, removeRangesFrom } from './ranges.ts'
import type { Range } from './ranges.ts'
import type { StoreState } from './store-state.ts'
import { validateChange } from './change-validation.ts'
import type { ApplyResult, Change, Changeset, SqlValue } from './types.ts'

/**
 * Creates a store's `apply(changeset)`: validates a remote changeset, buffers chunks of a partial
 * version, and merges a complete version into the tables in one transaction.
 */
export function applyChangeset (state: StoreState, compactStep: () => void): (cs: Changeset) => ApplyResult {
  const { db, st, books, tables, bs, clock, log, siteHex, capture, alive, notNested, localBook, ensureSite, forgetNewSites, siteIdOf, emit } = state
  /** Decoded chunks of partial versions buffered since open, by `ordinal:version`. */
  const chunkCache = new Map<string, Changeset[]>()
  let chunkCacheSize = 0

  function apply (cs: Changeset): ApplyResult {
    alive()
    if (cs == null || !(cs.actor instanceof Uint8Array) || cs.actor.length !== 16) throw new MalformedChangesetError('changeset actor must be 16 bytes')
    if (!Number.isSafeInteger(cs.version) || cs.version < 1 || cs.version > MAX_VERSION) throw new MalformedChangesetError(`changeset version must be an integer in 1..${MAX_VERSION}`)
    if (!Number.isSafeInteger(cs.lastSeq) || cs.lastSeq > MAX_SEQ) throw new MalformedChangesetError(`changeset last seq must be an integer <= ${MAX_SEQ}`)
    if (!Array.isArray(cs.seqs) || cs.seqs.length !== 2 || !Number.isSafeInteger(cs.seqs[0]) || !Number.isSafeInteger(cs.seqs[1]) || cs.seqs[0] < 0 || cs.seqs[0] > cs.seqs[1] || !Number.isSafeInteger(cs.lastSeq) || cs.seqs[1] > cs.lastSeq) {
      throw new MalformedChangesetError('changeset seq range must satisfy 0 <= start <= end <= lastSeq')
    }
    if (!Array.isArray(cs.changes)) throw new MalformedChangesetError('changeset changes must be a list')
    if (typeof cs.ts !== 'bigint') throw new MalformedChangesetError('changeset ts must be a bigint')
    const actorHex = hex(cs.actor)
    const base: Omit<ApplyResult, 'status'> = { actor: actorHex, version: cs.version, changed: 0 }
    // own versions we hold are ignored; newer ones (a restore lost them) are taken back like any peer's
    if (actorHex === siteHex && isKnown(localBook(), cs.version)) return { ...base, status: 'own' }
    notNested()
    for (const c of cs.changes) validateChange(c, cs, actorHex)
    const cur = books.get(actorHex)
    if (cur != null && isKnown(cur, cs.version)) return { ...base, status: 'duplicate' }
    const partial = cur?.partials.get(cs.version)
    if (partial != null && removeRangesFrom([cs.seqs], partial.seqs).length === 0) return { ...base, status: 'duplicate' }
    // validate before any write: unknown tables/columns reject the whole version
    const groups = groupChanges(tables, cs.changes)
    const complete = partial == null && cs.seqs[0] === 0 && cs.seqs[1] === cs.lastSeq
    let status: ApplyResult['status'] = 'buffered'
    let changed = 0
    let touched: RowTouch[] = []
    st.begin.run()
    state.clearNewSites()
    try {
      const ord = ensureSite(cs.actor)
      const book: Book = cur != null ? cloneBook(cur) : { ord, siteId: cs.actor, hex: actorHex, head: 0, gaps: [], partials: new Map() }
      let all: { groups: typeof groups; ts: bigint } | undefined
      if (complete) all = { groups, ts: cs.ts }
      else {
        const p = book.partials.get(cs.version) ?? { seqs: [], lastSeq: cs.lastSeq, ts: cs.ts }
        if (p.lastSeq !== cs.lastSeq) throw new MalformedChangesetError(`chunk says last seq ${cs.lastSeq}, earlier chunks said ${p.lastSeq}`)
        st.putBuffer.run(ord, cs.version, cs.seqs[0], cs.seqs[1], encodeChangeset(cs))
        p.seqs = addRange(p.seqs, cs.seqs[0], cs.seqs[1])
        book.partials.set(cs.version, p)
        if (p.seqs.length === 1 && p.seqs[0]![0] === 0 && p.seqs[0]![1] === p.lastSeq) {
          // chunks buffered by this process are kept decoded; after a restart read them back
          const cached = chunkCache.get(`${ord}:${cs.version}`)
          let have: Range[] = []
          for (const ch of cached ?? []) have = addRange(have, ch.seqs[0], ch.seqs[1])
          have = addRange(have, cs.seqs[0], cs.seqs[1])
          const complete = have.length === 1 && have[0]![0] === 0 && have[0]![1] === p.lastSeq
          const chunks = complete ? [...(cached ?? []), cs] : (st.getBuffer.all(ord, cs.version) as { data: Buffer }[]).map(r => decodeChangeset(r.data))
          const seen = new Set<number>()
          const changes: Change[] = []
          for (const ch of chunks) for (const c of ch.changes) if (!seen.has(c.seq)) { seen.add(c.seq); changes.push(c) }
          all = { groups: groupChanges(tables, changes), ts: p.ts }
          st.delBuffer.run(ord, cs.version)
        } else {
          markPartial(book, cs.version)
        }
      }
      if (all != null) {
        capture.syncBit = true
        try {
          const r = mergeGroups(all.groups, { ord, siteId: cs.actor, version: cs.version }, siteIdOf)
          changed = r.changed
          touched = r.touched
        } catch (err) {
          // e.g. a value a STRICT column refuses: the version cannot apply here, nothing is kept
          if ((err as Error).name === 'SqliteError' || err instanceof TypeError || err instanceof RangeError) {
            throw new MalformedChangesetError(`version ${cs.version} of ${actorHex} does not fit the local tables: ${(err as Error).message}`, { cause: err })
          }
          throw err
        } finally { capture.syncBit = false }
        const rows = new Map<string, SqlValue[][]>()
        for (const t of touched) {
          let l = rows.get(t.table)
          if (l == null) { l = []; rows.set(t.table, l) }
          l.push(t.pk)
        }
        st.putVersion.run(ord, cs.version, BigInt.asIntN(64, all.ts), cs.lastSeq, packInternal([...rows]))
        markKnown(book, cs.version)
        status = changed > 0 ? 'applied' : 'cleared'
      }
      bs.savePartial(book, cs.version)
      bs.save(book, cur?.gaps ?? [])
      if (all != null) compactStep()
      st.commit.run()
      state.clearNewSites()
      books.set(actorHex, book)
      const ck = `${ord}:${cs.version}`
      if (all == null) {
        // bounded: past the cap, completion simply reads the buffer table
        if (chunkCacheSize >= 20_000) { chunkCache.clear(); chunkCacheSize = 0 }
        const l = chunkCache.get(ck) ?? []
        l.push(cs)
        chunkCacheSize++
        chunkCache.set(ck, l)
      } else {
        chunkCacheSize -= chunkCache.get(ck)?.length ?? 0
        chunkCache.delete(ck)
      }
    } catch (err) {
      if (db.inTransaction) st.rollback.run()
      forgetNewSites()
      throw err
    }
    if (!clock.update(cs.ts)) log?.debug?.({ actor: actorHex, version: cs.version }, 'remote timestamp too far ahead; clock not moved')
    if (status !== 'buffered') emit('remote', touched)
    return { ...base, status, changed }
  }
  return apply
}

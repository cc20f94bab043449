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

/** The remote write path of a store. */
export interface ApplyChangesets {
  /** Applies one changeset in its own transaction. */
  apply(cs: Changeset): ApplyResult
  /**
   * Applies several changesets in one transaction: a changeset that fails (a typed error:
   * malformed, unknown table…) changes nothing and its error takes its place in the result list;
   * the others commit together. A SQLite failure (disk full, I/O) rolls the whole batch back and
   * throws.
   */
  applyBatch(list: readonly Changeset[]): Array<ApplyResult | Error>
}

/**
 * Creates a store's `apply(changeset)` and `applyBatch(changesets)`: validates a remote changeset,
 * buffers chunks of a partial version, and merges a complete version into the tables in one
 * transaction (or inside the batch's transaction).
 */
export function applyChangeset (state: StoreState, compactStep: (overwrites: number) => void): ApplyChangesets {
  const { db, st, books, tables, bs, clock, log, siteHex, capture, alive, notNested, localBook, ensureSite, forgetNewSites, siteIdOf, emit } = state
  /** Decoded chunks of partial versions buffered since open, by `ordinal:version`. */
  const chunkCache = new Map<string, Changeset[]>()
  let chunkCacheSize = 0
  /**
   * The batch in progress: books to restore if it rolls back, commit events to send once it
   * commits, and whether a changeset is between its first and last write (a failure there leaves
   * the batch's transaction half-written).
   */
  let batch: { undo: Array<[string, Book | undefined]>; emits: RowTouch[][]; writing: boolean } | undefined

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
    if (batch == null) notNested()
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
    let overwrites = 0
    if (batch == null) { st.begin.run(); state.clearNewSites() } else batch.writing = true
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
          overwrites = r.overwrites
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
      if (partial != null || book.partials.has(cs.version)) bs.savePartial(book, cs.version)
      bs.save(book, cur?.gaps ?? [], cur?.head)
      if (all != null) compactStep(overwrites)
      if (batch == null) { st.commit.run(); state.clearNewSites() } else { batch.writing = false; batch.undo.push([actorHex, cur]) }
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
      // (in a batch, the batch rolls back and takes its changesets one at a time)
      if (batch == null) {
        if (db.inTransaction) st.rollback.run()
        forgetNewSites()
      }
      throw err
    }
    if (!clock.update(cs.ts)) log?.debug?.({ actor: actorHex, version: cs.version }, 'remote timestamp too far ahead; clock not moved')
    if (status !== 'buffered') {
      if (batch == null) emit('remote', touched)
      else batch.emits.push(touched)
    }
    return { ...base, status, changed }
  }

  function applyBatch (list: readonly Changeset[]): Array<ApplyResult | Error> {
    alive()
    if (!Array.isArray(list)) throw new MalformedChangesetError('applyBatch expects a list of changesets')
    notNested()
    if (list.length === 0) return []
    const b: NonNullable<typeof batch> = { undo: [], emits: [], writing: false }
    const out: Array<ApplyResult | Error> = []
    batch = b
    st.begin.run()
    state.clearNewSites()
    let halfWritten = false
    try {
      for (const cs of list) {
        try {
          out.push(apply(cs))
        } catch (err) {
          // refused before writing anything (validation): only this changeset fails
          if (!b.writing && db.inTransaction && err instanceof Error && err.name !== 'SqliteError') { out.push(err); continue }
          halfWritten = b.writing && err instanceof Error && err.name !== 'SqliteError' && db.inTransaction
          throw err
        }
      }
      st.commit.run()
    } catch (err) {
      if (db.inTransaction) st.rollback.run()
      for (const [h, prev] of b.undo.reverse()) {
        if (prev == null) books.delete(h)
        else books.set(h, prev)
      }
      // buffered chunks may now be missing from the buffer table: completion rereads the table
      chunkCache.clear()
      chunkCacheSize = 0
      forgetNewSites()
      batch = undefined
      if (!halfWritten) throw err
      // a changeset failed halfway (e.g. a value a STRICT column refuses): no savepoint per
      // changeset on the common path, so take them one transaction each and keep each verdict
      return list.map(cs => {
        try { return apply(cs) } catch (e) {
          if (!(e instanceof Error) || e.name === 'SqliteError') throw e
          return e
        }
      })
    } finally {
      batch = undefined
    }
    state.clearNewSites()
    for (const touched of b.emits) emit('remote', touched)
    return out
  }
  return { apply, applyBatch }
}

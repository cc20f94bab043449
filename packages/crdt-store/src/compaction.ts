import { packInternal, unpackInternal } from './codec.ts'
import type { StoreState } from './store-state.ts'
import { ownedRows } from './version-reader.ts'
import type { RowList } from './version-reader.ts'

/** Row-list compaction of a store: a bounded step per write, and a full pass. */
export interface Compaction {
  /**
   * Called by each write with the rows it overwrote: once enough are owed, compacts a page of older
   * versions within a key budget; never throws (logs instead).
   */
  compactStep(overwrites: number): void
  /** Compacts every version (the store's `compact()`). */
  compact(): { versions: number; keysDropped: number }
}

// Row lists of old versions shrink as later writes take their cells (a fully overwritten version
// keeps only its number, ts and last seq). Only a write that overwrote rows can have taken cells
// from older versions, so writes pay for compaction in proportion: each overwritten row owes one
// version check, and once a page is owed a write checks a page of older versions, round robin,
// inside its own transaction, within a budget of keys; lists too big for the budget wait for
// `compact()`. Insert-only workloads pay nothing (a page per write cost a third of a small merge).
const COMPACT_KEYS_PER_STEP = 2048
const COMPACT_PAGE = 8
// a huge update must not leave every later write compacting for ever
const MAX_OWED = 4096

/** Creates the compaction of a store's version row lists. */
export function compaction (state: StoreState): Compaction {
  const { db, st, tables, log } = state
  let compactAfter: [number, number] = [-1, 0]
  const compactVersion = (r: { site: number; dbv: number; rows: Buffer }): number => {
    const list = unpackInternal(r.rows) as RowList
    const kept = ownedRows(tables, list, r.site, r.dbv)
    const before = list.reduce((n, [, k]) => n + k.length, 0)
    const after = kept.reduce((n, [, k]) => n + k.length, 0)
    if (after < before) st.setRows.run(packInternal(kept), r.site, r.dbv)
    return before - after
  }
  let owed = 0
  const compactStep = (overwrites: number): void => {
    owed = Math.min(MAX_OWED, owed + overwrites)
    if (owed < COMPACT_PAGE) return
    owed -= COMPACT_PAGE
    try {
      let budget = COMPACT_KEYS_PER_STEP
      const page = st.compactPage.all(compactAfter[0], compactAfter[1], COMPACT_PAGE) as { site: number; dbv: number; rows: Buffer }[]
      for (const r of page) {
        compactAfter = [r.site, r.dbv]
        // a msgpack key costs at least a byte: cheap upper bound before decoding
        if (r.rows.length > budget * 16) continue
        budget -= r.rows.length / 16
        compactVersion(r)
        if (budget <= 0) break
      }
      if (page.length < COMPACT_PAGE) compactAfter = [-1, 0]
    } catch (err) {
      log?.warn?.({ err }, 'row-list compaction step failed')
    }
  }
  const compact = (): { versions: number; keysDropped: number } => {
    state.alive()
    state.notNested()
    let versions = 0
    let keysDropped = 0
    st.begin.run()
    try {
      let after: [number, number] = [-1, 0]
      for (;;) {
        const page = st.compactPage.all(after[0], after[1], 64) as { site: number; dbv: number; rows: Buffer }[]
        for (const r of page) {
          const dropped = compactVersion(r)
          if (dropped > 0) { versions++; keysDropped += dropped }
          after = [r.site, r.dbv]
        }
        if (page.length < 64) break
      }
      st.commit.run()
    } catch (err) {
      if (db.inTransaction) st.rollback.run()
      throw err
    }
    return { versions, keysDropped }
  }
  return { compactStep, compact }
}

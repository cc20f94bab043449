import { decodeChangeset, encodeChangeset, openStore } from '../src/index.ts'
import type { CrdtStore, SqlValue } from '../src/index.ts'

/** Opens `n` in-memory stores with the same schema. */
export function stores (n: number, schema: string): CrdtStore[] {
  const out: CrdtStore[] = []
  for (let i = 0; i < n; i++) {
    const s = openStore({ path: ':memory:' })
    s.applySchema(schema)
    out.push(s)
  }
  return out
}

/** Pulls everything `from` has that `to` lacks, through the binary codec. Returns changesets moved. */
export function pull (to: CrdtStore, from: CrdtStore): number {
  let n = 0
  for (const cs of from.serve(to.needs(from.summary()))) {
    to.apply(decodeChangeset(encodeChangeset(cs)))
    n++
  }
  return n
}

/** Syncs every pair until nothing moves. */
export function syncAll (list: CrdtStore[]): void {
  for (let round = 0; round < 5; round++) {
    let moved = 0
    for (const a of list) for (const b of list) if (a !== b) moved += pull(a, b)
    if (moved === 0) return
  }
}

/** All rows of a table, ordered by its first column. */
export function rows (s: CrdtStore, table: string): SqlValue[][] {
  return [...s.read(`SELECT * FROM "${table}" ORDER BY 1, 2`).rows]
}

/** The crsql_changes view as plain rows (hex pk and site id). */
export function changesView (s: CrdtStore): unknown[] {
  return [...s.read('SELECT "table", hex(pk), cid, val, col_version, db_version, hex(site_id), cl, seq FROM crsql_changes ORDER BY "table", hex(pk), cid').rows]
}

/** Hex of bytes. */
export function hex (b: Uint8Array): string { return Buffer.from(b).toString('hex') }

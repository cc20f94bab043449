/**
 * Runs the same operations on N cr-sqlite replicas (the oracle) and N Patina stores whose site ids
 * are the same, then compares table contents and per-cell winners replica by replica.
 *
 * Rules of comparison (see crsqlite.md §4.6): Patina turns merge-equal-values on, the 0.16.0 oracle
 * cannot, so when two writers produce the same value at the same col_version, the oracle keeps
 * whichever site it saw first while Patina keeps the greatest site id. Values, col_versions and
 * causal lengths must match everywhere; the winning site must match too except on such ties, where
 * Patina's site must be the greatest of the sites the oracle replicas ended with.
 */
import { expect } from 'vitest'
import { type Changeset, type CrdtStore, openStore } from '../../src/index.ts'
import { type CellState, type OracleChange, type OracleDb, compareCells, createOracleDb } from './crsqlite-oracle.ts'
import { tableRows } from './store-snapshot.ts'
import { canon, compareBytes, fromTypeof, hex, text } from './typed-value.ts'

/** A write that was committed on one replica and can be delivered elsewhere (broadcast path). */
export interface Tx {
  readonly origin: number
  readonly oracle: readonly OracleChange[]
  readonly patina: readonly Changeset[]
}

/** The paired replicas. */
export interface World {
  readonly size: number
  readonly oracles: readonly OracleDb[]
  readonly stores: readonly CrdtStore[]
  /** Runs the statements in one transaction on replica `i` of both engines. */
  write(i: number, sql: string | readonly string[]): Promise<Tx>
  /** Delivers a recorded transaction to replica `to` (no-op for its origin). */
  deliver(tx: Tx, to: number): Promise<void>
  /** Anti-entropy from `from` to `to`: oracle merges all of `from`'s changes, Patina syncs by summary/needs/serve/apply. */
  sync(from: number, to: number): Promise<void>
  /** Syncs every ordered pair twice, so every replica has everything. */
  syncAll(): Promise<void>
  /** Compares replica `i` of both engines (contents + cells, sites ignored). */
  check(i: number, label?: string): Promise<void>
  /** Compares all replicas, asserts convergence of both engines and the site rule. */
  checkConverged(label?: string): Promise<void>
  close(): Promise<void>
}

/** Every row of a Patina table, ordered by primary key, values as `canon()` strings. */
export function patinaContents (store: CrdtStore, table: string): string[][] {
  return tableRows(store, table)
}

/** Per-cell winners of a Patina store, from its `crsql_changes` view. */
export function patinaCells (store: CrdtStore): CellState[] {
  const cur = store.read('SELECT "table", pk, cid, typeof(val), val, col_version, cl, site_id FROM crsql_changes')
  const out: CellState[] = []
  try {
    for (const r of cur.rows) {
      out.push({
        table: String(r[0]),
        pk: hex(r[1] as Uint8Array),
        cid: String(r[2]),
        val: canon(fromTypeof(r[3], r[4])),
        colVersion: BigInt(r[5] as number | bigint),
        cl: BigInt(r[6] as number | bigint),
        site: hex(r[7] as Uint8Array)
      })
    }
  } finally { cur.close() }
  return out.sort(compareCells)
}

const noSite = (c: CellState): Omit<CellState, 'site'> => ({ table: c.table, pk: c.pk, cid: c.cid, val: c.val, colVersion: c.colVersion, cl: c.cl })

/** Options for {@link createWorld}. */
export interface WorldInit {
  size: number
  /** Schema statements (plain CREATE TABLE / CREATE INDEX); applied with `applySchema` on Patina and `crsql_as_crr` on the oracle. */
  schema: readonly string[]
  /** Tables to compare. */
  tables: readonly string[]
  /** Changeset size for Patina stores (small values exercise chunking). */
  chunkBytes?: number
  /** Site ids for the Patina stores are random; this orders replicas by ascending site id when true. */
  sortSites?: boolean
}

/** Opens `size` paired replicas. */
export async function createWorld (init: WorldInit): Promise<World> {
  let stores: CrdtStore[] = []
  for (let i = 0; i < init.size; i++) {
    stores.push(openStore({ path: ':memory:', ...(init.chunkBytes !== undefined ? { chunkBytes: init.chunkBytes } : {}) }))
  }
  if (init.sortSites === true) stores = stores.sort((a, b) => compareBytes(a.siteId, b.siteId))
  const oracles: OracleDb[] = []
  for (const s of stores) {
    s.applySchema(init.schema)
    const o = await createOracleDb({ siteId: s.siteId })
    for (const stmt of init.schema) {
      // Whatever tables the statement creates become CRRs (names taken from SQLite, so any quoting works).
      const listTables = async (): Promise<Set<string>> => new Set((await o.query("SELECT name FROM sqlite_master WHERE type = 'table'")).map(r => (r[0]?.type === 'text' ? r[0].value : '')))
      const before = await listTables()
      await o.exec(stmt)
      for (const name of await listTables()) {
        if (!before.has(name) && !name.includes('__crsql_') && !name.startsWith('crsql_')) await o.exec('SELECT crsql_as_crr(?)', [text(name)])
      }
    }
    oracles.push(o)
  }

  const o = (i: number): OracleDb => { const v = oracles[i]; if (v === undefined) throw new RangeError(`no replica ${i}`); return v }
  const s = (i: number): CrdtStore => { const v = stores[i]; if (v === undefined) throw new RangeError(`no replica ${i}`); return v }

  const world: World = {
    size: init.size,
    oracles,
    stores,
    async write (i, sqlIn) {
      const statements = typeof sqlIn === 'string' ? [sqlIn] : sqlIn
      const db = o(i)
      const before = (await db.query('SELECT crsql_db_version()'))[0]?.[0]
      const since = before?.type === 'integer' ? before.value : 0n
      await db.exec('BEGIN')
      try {
        for (const sql of statements) await db.exec(sql)
        await db.exec('COMMIT')
      } catch (err) {
        await db.exec('ROLLBACK')
        throw err
      }
      const oracle = await db.changesSince(since, {})
      const res = s(i).transaction(statements.map(sql => ({ sql })))
      return { origin: i, oracle: oracle.filter(c => compareBytes(c.siteId, db.siteId) === 0), patina: res.changesets }
    },
    async deliver (tx, to) {
      if (tx.origin === to) return
      if (tx.oracle.length > 0) await o(to).merge(tx.oracle)
      for (const cs of tx.patina) s(to).apply(cs)
    },
    async sync (from, to) {
      if (from === to) return
      await o(to).merge(await o(from).changesSince(0))
      const needs = s(to).needs(s(from).summary())
      for (const cs of s(from).serve(needs)) s(to).apply(cs)
    },
    async syncAll () {
      for (let round = 0; round < 2; round++) {
        for (let a = 0; a < init.size; a++) {
          for (let b = 0; b < init.size; b++) await world.sync(a, b)
        }
      }
    },
    async check (i, label = '') {
      for (const t of init.tables) {
        expect(patinaContents(s(i), t), `${label} replica ${i} table ${t} contents`).toEqual(await o(i).selectAll(t))
      }
      expect(patinaCells(s(i)).map(noSite), `${label} replica ${i} cells`).toEqual((await o(i).cells()).map(noSite))
    },
    async checkConverged (label = '') {
      for (let i = 0; i < init.size; i++) await world.check(i, label)
      const first = await o(0).cells()
      for (let i = 1; i < init.size; i++) {
        for (const t of init.tables) expect(await o(i).selectAll(t), `${label} oracle replicas disagree`).toEqual(await o(0).selectAll(t))
        expect(patinaCells(s(i)), `${label} Patina replicas ${i} and 0 disagree`).toEqual(patinaCells(s(0)))
      }
      // Expected Patina site per cell: the greatest site any oracle replica ended with.
      const sites = new Map<string, string>()
      for (let i = 0; i < init.size; i++) {
        for (const c of await o(i).cells()) {
          const k = `${c.table}|${c.pk}|${c.cid}`
          const prev = sites.get(k)
          if (prev === undefined || c.site > prev) sites.set(k, c.site)
        }
      }
      const got = patinaCells(s(0)).map(c => [c.table, c.pk, c.cid, c.site])
      const want = first.map(c => [c.table, c.pk, c.cid, sites.get(`${c.table}|${c.pk}|${c.cid}`)])
      expect(got, `${label} winning sites`).toEqual(want)
    },
    async close () {
      for (const db of oracles) await db.close()
      for (const st of stores) st.close()
    }
  }
  return world
}

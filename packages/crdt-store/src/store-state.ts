import Database from 'better-sqlite3'
import type { Database as Db } from 'better-sqlite3'
import { bookStore } from './bookkeeping.ts'
import type { Book, BookStore } from './bookkeeping.ts'
import { SqlError, StoreClosedError } from './errors.ts'
import { hex, newSiteId } from './hex.ts'
import { hlc } from './hlc.ts'
import type { Hlc } from './hlc.ts'
import type { RowTouch } from './merge.ts'
import { packValues } from './pack-pk.ts'
import { readFunctions } from './read-functions.ts'
import { tableRuntime, looseValue, exactKey } from './runtime.ts'
import type { TableRuntime } from './runtime.ts'
import { storeStatements } from './store-statements.ts'
import type { StoreInit } from './store.ts'
import type { StoreStatements } from './store-statements.ts'
import { crrTable } from './table-info.ts'
import type { CommitEvent, RowChange, StoreLogger } from './types.ts'
import { writeCapture } from './write-capture.ts'
import type { WriteCapture } from './write-capture.ts'

/** The state every part of an open store shares: connections, sites, books, tables, listeners. */
export interface StoreState {
  readonly db: Db
  /** The read-only connection for whole-result reads (the writer itself for an in-memory store). */
  readonly reader: Db
  /** Opens another read-only connection like `reader` (file stores only), for a streaming cursor. */
  openReader(): Db
  /** Runs `fn` when the store closes, before its own connections close (read cursors' connections). */
  onClose(fn: () => void): void
  readonly memory: boolean
  readonly log: StoreLogger | undefined
  readonly chunkBytes: number
  readonly clock: Hlc
  readonly siteId: Uint8Array
  readonly siteHex: string
  readonly capture: WriteCapture
  readonly bs: BookStore
  /** Version bookkeeping of every actor, by hex site id. */
  readonly books: Map<string, Book>
  /** This actor's book. Its own versions can also arrive from peers (after a restore from backup). */
  localBook(): Book
  /** The CRR tables, by name. */
  readonly tables: Map<string, TableRuntime>
  /** Reloads `tables` from the database schema. */
  loadTables(): void
  readonly st: StoreStatements
  /** The ordinal of a site id, added (and remembered as new) when unknown. */
  ensureSite(id: Uint8Array): number
  /** Forgets the sites added since the last `clearNewSites()` (their transaction rolled back). */
  forgetNewSites(): void
  /** Keeps the sites added so far (their transaction committed, or a new one begins). */
  clearNewSites(): void
  siteIdOf(ord: number): Uint8Array
  readonly listeners: Set<(ev: CommitEvent) => void>
  /** Throws `StoreClosedError` once the store is closed. */
  alive(): void
  /** Throws when called from inside a running transaction. */
  notNested(): void
  /** Tells commit listeners about touched rows. */
  emit(source: 'local' | 'remote', touched: Iterable<RowTouch>): void
  /** Closes both connections (idempotent). */
  close(): void
}

/** Sets up the shared state of a store on an open database whose internal tables exist. */
export function storeState (db: Db, init: StoreInit): StoreState {
  const memory = init.path === ':memory:' || init.path === ''
  const log = init.logger
  const chunkBytes = init.chunkBytes ?? 8192
  const clock: Hlc = hlc({ now: init.now ?? Date.now })

  let siteId: Uint8Array
  {
    const row = db.prepare('SELECT site_id FROM __patina_sites WHERE ordinal = 0').get() as { site_id: Buffer } | undefined
    if (row != null) siteId = new Uint8Array(row.site_id)
    else {
      siteId = newSiteId()
      db.prepare('INSERT INTO __patina_sites (ordinal, site_id) VALUES (0, ?)').run(Buffer.from(siteId))
    }
  }
  const siteHex = hex(siteId)

  // ---- local-write state read by the trigger UDFs (registered before any table is prepared)
  const capture = writeCapture()
  capture.register(db)
  const registerReadFns = readFunctions(siteId, () => localBook().head)
  registerReadFns(db)

  // ---- sites and bookkeeping
  const sitesByOrd = new Map<number, Uint8Array>()
  const ordByHex = new Map<string, number>()
  for (const r of db.prepare('SELECT ordinal, site_id FROM __patina_sites').all() as { ordinal: number; site_id: Buffer }[]) {
    sitesByOrd.set(r.ordinal, new Uint8Array(r.site_id))
    ordByHex.set(hex(r.site_id), r.ordinal)
  }
  const insertSite = db.prepare('INSERT INTO __patina_sites (site_id) VALUES (?) RETURNING ordinal')
  // sites added by the running transaction: forgotten again if it rolls back
  let newSites: string[] = []
  const ensureSite = (id: Uint8Array): number => {
    const h = hex(id)
    let o = ordByHex.get(h)
    if (o == null) {
      o = (insertSite.get(Buffer.from(id)) as { ordinal: number }).ordinal
      ordByHex.set(h, o)
      sitesByOrd.set(o, id)
      newSites.push(h)
    }
    return o
  }
  const forgetNewSites = (): void => {
    for (const h of newSites) {
      const o = ordByHex.get(h)
      ordByHex.delete(h)
      if (o != null) sitesByOrd.delete(o)
    }
    newSites = []
  }
  const siteIdOf = (ord: number): Uint8Array => sitesByOrd.get(ord) ?? new Uint8Array(16)

  const bs: BookStore = bookStore(db)
  const books = new Map<string, Book>()
  for (const b of bs.load()) {
    const id = sitesByOrd.get(b.ord)
    if (id == null) continue
    books.set(hex(id), { ...b, siteId: id, hex: hex(id) })
  }
  if (!books.has(siteHex)) books.set(siteHex, { ord: 0, siteId, hex: siteHex, head: 0, gaps: [], partials: new Map() })
  const localBook = (): Book => books.get(siteHex)!

  // ---- tables
  const tables = new Map<string, TableRuntime>()
  const loadTables = (): void => {
    tables.clear()
    const names = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%\\_\\_crsql\\_clock' ESCAPE '\\' ORDER BY rowid").all() as { name: string }[]
    for (const { name } of names) {
      const base = name.slice(0, -'__crsql_clock'.length)
      const exists = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(base)
      if (exists == null) continue
      tables.set(base, tableRuntime(db, crrTable(db, base)))
    }
  }
  loadTables()

  const st = storeStatements(db)
  const openReader = (): Db => {
    const c = new Database(init.path, { readonly: true })
    registerReadFns(c)
    // preparing a write on a reader compiles the CRR triggers: give their functions inert stubs
    for (const f of ['patina_sq', 'patina_sqn', 'patina_last', 'patina_lastn', 'patina_stamp', 'patina_existed']) {
      c.function(f, { varargs: true, deterministic: false }, () => null)
    }
    return c
  }
  const reader: Db = memory ? db : openReader()
  const closers: (() => void)[] = []

  const listeners = new Set<(ev: CommitEvent) => void>()
  let closed = false
  const alive = (): void => { if (closed) throw new StoreClosedError() }

  // Built only when a listener reads it: most commits reach listeners that only count them or
  // watch none of the tables touched, for which packing every key is wasted work.
  const rowChanges = (touched: Iterable<RowTouch>): RowChange[] => {
    const changes: RowChange[] = []
    for (const t of touched) {
      if (t.kind == null) continue
      const rt = tables.get(t.table)
      const pk = rt != null ? exactKey(rt, t.pk) : t.pk
      changes.push({ table: t.table, pk: packValues(pk, true), pkValues: pk.map(looseValue), kind: t.kind })
    }
    return changes
  }

  const emit = (source: 'local' | 'remote', touched: Iterable<RowTouch>): void => {
    if (listeners.size === 0) return
    let visible = false
    for (const t of touched) if (t.kind != null) { visible = true; break }
    if (!visible) return
    let changes: RowChange[] | undefined
    const ev: CommitEvent = {
      source,
      get changes () { return (changes ??= rowChanges(touched)) }
    }
    for (const l of listeners) {
      try { l(ev) } catch (err) { log?.error?.({ err }, 'commit listener failed') }
    }
  }

  const notNested = (): void => {
    if (db.inTransaction) throw new SqlError('store calls cannot nest inside a running transaction')
  }

  return {
    db,
    reader,
    openReader,
    onClose (fn) { closers.push(fn) },
    memory,
    log,
    chunkBytes,
    clock,
    siteId,
    siteHex,
    capture,
    bs,
    books,
    localBook,
    tables,
    loadTables,
    st,
    ensureSite,
    forgetNewSites,
    clearNewSites () { newSites = [] },
    siteIdOf,
    listeners,
    alive,
    notNested,
    emit,
    close () {
      if (closed) return
      closed = true
      for (const fn of closers) fn()
      if (reader !== db) reader.close()
      db.close()
    }
  }
}

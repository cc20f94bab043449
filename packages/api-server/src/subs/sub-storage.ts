/**
 * Persistence of subscriptions in one SQLite file (`<dataDir>/subscriptions.sqlite`, Node's
 * built-in `node:sqlite`): their SQL, current rows with row ids, and retained change events. The
 * queried data itself never comes from here, only through the store port.
 */
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { DatabaseSync } from 'node:sqlite'
import { Packr } from 'msgpackr'
import type { SqlValue, Statement } from '../ports.ts'
import type { RowDiffChange, SubRow } from './row-diff.ts'

const packr = new Packr({ useRecords: false, int64AsType: 'auto' as 'bigint' })

/** A retained change event. */
export interface StoredChange extends RowDiffChange {
  changeId: number
}

/** Everything needed to bring a subscription back after a restart. */
export interface PersistedSubscription {
  id: string
  statement: Statement
  columns: string[]
  rows: SubRow[]
  changes: StoredChange[]
  nextRowid: number
  lastChangeId: number
}

/** Where subscriptions are kept. */
export interface SubStorage {
  load(): PersistedSubscription[]
  /** Records a new subscription with its initial rows. */
  create(sub: PersistedSubscription): void
  /**
   * Records one evaluation's effect: changes appended, rows written (`cells` null = deleted; the
   * held cells, hidden key columns included), old changes pruned.
   */
  commit(id: string, changes: readonly StoredChange[], rows: ReadonlyArray<{ rowid: number, cells: SqlValue[] | null }>, nextRowid: number, minChangeId: number): void
  remove(id: string): void
  close(): void
}

function pack (v: unknown): Uint8Array { return packr.pack(v) }
function unpack<T> (v: unknown): T { return packr.unpack(v as Uint8Array) as T }

/** Opens (creating) the subscription store under `dataDir`. */
export function openSubStorage (dataDir: string): SubStorage {
  mkdirSync(dataDir, { recursive: true })
  const db = new DatabaseSync(join(dataDir, 'subscriptions.sqlite'))
  db.exec(`
    PRAGMA journal_mode = WAL;
    PRAGMA synchronous = NORMAL;
    CREATE TABLE IF NOT EXISTS subs (id TEXT PRIMARY KEY, stmt BLOB NOT NULL, columns BLOB NOT NULL, next_rowid INTEGER NOT NULL, last_change_id INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS sub_rows (sub TEXT NOT NULL, rowid_ INTEGER NOT NULL, cells BLOB NOT NULL, PRIMARY KEY (sub, rowid_)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS sub_changes (sub TEXT NOT NULL, id INTEGER NOT NULL, type TEXT NOT NULL, rowid_ INTEGER NOT NULL, cells BLOB NOT NULL, PRIMARY KEY (sub, id)) WITHOUT ROWID;
  `)
  const insSub = db.prepare('INSERT OR REPLACE INTO subs VALUES (?, ?, ?, ?, ?)')
  const updSub = db.prepare('UPDATE subs SET next_rowid = ?, last_change_id = ? WHERE id = ?')
  const upRow = db.prepare('INSERT OR REPLACE INTO sub_rows VALUES (?, ?, ?)')
  const delRow = db.prepare('DELETE FROM sub_rows WHERE sub = ? AND rowid_ = ?')
  const insChange = db.prepare('INSERT OR REPLACE INTO sub_changes VALUES (?, ?, ?, ?, ?)')
  const prune = db.prepare('DELETE FROM sub_changes WHERE sub = ? AND id < ?')

  function tx (fn: () => void): void {
    db.exec('BEGIN')
    try { fn(); db.exec('COMMIT') } catch (err) { db.exec('ROLLBACK'); throw err }
  }

  return {
    load () {
      const out: PersistedSubscription[] = []
      for (const s of db.prepare('SELECT * FROM subs').all() as Array<Record<string, unknown>>) {
        const id = s.id as string
        const rows = (db.prepare('SELECT rowid_, cells FROM sub_rows WHERE sub = ? ORDER BY rowid_').all(id) as Array<Record<string, unknown>>)
          .map(r => ({ rowid: Number(r.rowid_), cells: unpack<SqlValue[]>(r.cells) }))
        const changes = (db.prepare('SELECT * FROM sub_changes WHERE sub = ? ORDER BY id').all(id) as Array<Record<string, unknown>>)
          .map(c => ({ changeId: Number(c.id), type: c.type as StoredChange['type'], rowid: Number(c.rowid_), cells: unpack<SqlValue[]>(c.cells) }))
        out.push({
          id,
          statement: unpack<Statement>(s.stmt),
          columns: unpack<string[]>(s.columns),
          rows,
          changes,
          nextRowid: Number(s.next_rowid),
          lastChangeId: Number(s.last_change_id)
        })
      }
      return out
    },
    create (sub) {
      tx(() => {
        insSub.run(sub.id, pack(sub.statement), pack(sub.columns), sub.nextRowid, sub.lastChangeId)
        for (const r of sub.rows) upRow.run(sub.id, r.rowid, pack(r.cells))
      })
    },
    commit (id, changes, rows, nextRowid, minChangeId) {
      if (changes.length === 0) return
      tx(() => {
        for (const r of rows) {
          if (r.cells == null) delRow.run(id, r.rowid)
          else upRow.run(id, r.rowid, pack(r.cells))
        }
        for (const c of changes) insChange.run(id, c.changeId, c.type, c.rowid, pack(c.cells))
        prune.run(id, minChangeId)
        updSub.run(nextRowid, changes[changes.length - 1]?.changeId ?? 0, id)
      })
    },
    remove (id) {
      tx(() => {
        db.prepare('DELETE FROM subs WHERE id = ?').run(id)
        db.prepare('DELETE FROM sub_rows WHERE sub = ?').run(id)
        db.prepare('DELETE FROM sub_changes WHERE sub = ?').run(id)
      })
    },
    close () { db.close() }
  }
}

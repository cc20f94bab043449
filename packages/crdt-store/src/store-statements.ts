import type { Database as Db, Statement } from 'better-sqlite3'

/** The store's internal tables, created on open. */
export const INTERNAL_DDL = `
CREATE TABLE IF NOT EXISTS __patina_sites (ordinal INTEGER PRIMARY KEY, site_id BLOB NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS __patina_heads (site INTEGER PRIMARY KEY, head INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS __patina_gaps (site INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, PRIMARY KEY (site, start)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_partials (site INTEGER NOT NULL, dbv INTEGER NOT NULL, last_seq INTEGER NOT NULL, ts INTEGER NOT NULL, seqs TEXT NOT NULL, PRIMARY KEY (site, dbv)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_buffer (site INTEGER NOT NULL, dbv INTEGER NOT NULL, start INTEGER NOT NULL, "end" INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (site, dbv, start, "end")) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS __patina_versions (site INTEGER NOT NULL, dbv INTEGER NOT NULL, ts INTEGER NOT NULL, last_seq INTEGER NOT NULL, rows BLOB NOT NULL, PRIMARY KEY (site, dbv)) WITHOUT ROWID;
`

/** The version lookup `serve()` uses (primary-key search). */
export const VERSION_SQL = 'SELECT ts, last_seq, rows FROM __patina_versions WHERE site = ? AND dbv = ?'
/** The version range scan `changes()` uses (primary-key range search). */
export const VERSION_RANGE_SQL = 'SELECT dbv, ts, last_seq, rows FROM __patina_versions WHERE site = ? AND dbv BETWEEN ? AND ? ORDER BY dbv'

/** The statements a store prepares once on its writer connection. */
export interface StoreStatements {
  readonly begin: Statement
  readonly commit: Statement
  readonly rollback: Statement
  readonly putVersion: Statement
  readonly getVersion: Statement
  readonly versionRange: Statement
  readonly compactPage: Statement
  readonly setRows: Statement
  readonly versionPage: Statement
  readonly putBuffer: Statement
  readonly getBuffer: Statement
  readonly delBuffer: Statement
}

/** Prepares the store's internal statements on `db`. */
export function storeStatements (db: Db): StoreStatements {
  return {
    begin: db.prepare('BEGIN IMMEDIATE'),
    commit: db.prepare('COMMIT'),
    rollback: db.prepare('ROLLBACK'),
    putVersion: db.prepare('INSERT OR REPLACE INTO __patina_versions (site, dbv, ts, last_seq, rows) VALUES (?, ?, ?, ?, ?)'),
    getVersion: db.prepare(VERSION_SQL).safeIntegers(true),
    versionRange: db.prepare(VERSION_RANGE_SQL).safeIntegers(true),
    compactPage: db.prepare('SELECT site, dbv, rows FROM __patina_versions WHERE (site, dbv) > (?, ?) AND length(rows) > 1 ORDER BY site, dbv LIMIT ?'),
    setRows: db.prepare('UPDATE __patina_versions SET rows = ? WHERE site = ? AND dbv = ?'),
    versionPage: db.prepare('SELECT dbv FROM __patina_versions WHERE site = ? AND dbv BETWEEN ? AND ? ORDER BY dbv LIMIT 256').safeIntegers(true),
    putBuffer: db.prepare('INSERT OR IGNORE INTO __patina_buffer (site, dbv, start, "end", data) VALUES (?, ?, ?, ?, ?)'),
    getBuffer: db.prepare('SELECT data FROM __patina_buffer WHERE site = ? AND dbv = ? ORDER BY start'),
    delBuffer: db.prepare('DELETE FROM __patina_buffer WHERE site = ? AND dbv = ?')
  }
}

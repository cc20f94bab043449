import type { Database as Db } from 'better-sqlite3'
import { unpackInternal } from './codec.ts'
import { MAX_KEY_COLUMNS } from './crr-sql.ts'
import { packValues } from './pack-pk.ts'
import { toBytes } from './runtime.ts'
import type { SqlValue } from './types.ts'
import type { RowList } from './version-reader.ts'

/**
 * Returns a function registering, on a connection, the SQL functions and the `patina_keys` table
 * function that the `crsql_changes` view and clients' reads use. Connections registered by one
 * call share its decoded row-list cache.
 */
export function readFunctions (siteId: Uint8Array, dbVersion: () => number): (c: Db) => void {
  // decoded version row lists for the crsql_changes view, most recent last (each view arm walks
  // the same versions, so a small cache saves decoding a list once per table and column)
  const keyCache = new Map<string, Map<string, SqlValue[][]>>()
  const keysOf = (site: unknown, dbv: unknown, rows: Buffer): Map<string, SqlValue[][]> => {
    const k = `${String(site)}:${String(dbv)}`
    let m = keyCache.get(k)
    if (m == null) {
      m = new Map(unpackInternal(rows) as RowList)
      if (keyCache.size >= 512) keyCache.delete(keyCache.keys().next().value!)
      keyCache.set(k, m)
    }
    return m
  }
  return (c: Db): void => {
    c.table('patina_keys', {
      columns: Array.from({ length: MAX_KEY_COLUMNS }, (_, i) => `k${i}`),
      parameters: ['site', 'dbv', 'rows', 'tbl'],
      * rows (site: unknown, dbv: unknown, rows: unknown, tbl: unknown) {
        if (!Buffer.isBuffer(rows) || typeof tbl !== 'string') return
        for (const key of keysOf(site, dbv, rows).get(tbl) ?? []) {
          const out = new Array<SqlValue>(MAX_KEY_COLUMNS).fill(null)
          for (let i = 0; i < key.length && i < MAX_KEY_COLUMNS; i++) out[i] = toBytes(key[i]!)
          yield out
        }
      }
    })
    c.function('crsql_site_id', { deterministic: true }, () => Buffer.from(siteId))
    c.function('crsql_db_version', { deterministic: false }, () => dbVersion())
    c.function('crsql_pack_columns', { varargs: true, deterministic: true, safeIntegers: true }, (...vals: unknown[]) => Buffer.from(packValues(vals as SqlValue[], true)))
  }
}

import { DatabaseSync } from 'node:sqlite'
import { CATALOG_TABLES, catalogDdl, catalogDeclToOid } from './catalog-tables.ts'
import { buildCatalogModel, quoteIdent } from './catalog-model.ts'
import { rewriteCatalogSql } from './catalog-rewrite.ts'
import { rewriteForSqlite } from './sql-rewrite.ts'
import { resultFromCursor } from './result-set.ts'
import { TYPES, typeDisplayName } from './types.ts'
import type { CatalogModel } from './catalog-model.ts'
import type { ResultSet } from './result-set.ts'
import type { SchemaInfo, SqlValue } from '../ports.ts'
import type { SQLInputValue, SQLOutputValue, StatementSync } from 'node:sqlite'

/** What catalog functions may ask about the session running the query. */
export interface CatalogSession {
  user: string
  database: string
  pid: number
  /** Session parameters (`SHOW`/`current_setting`). */
  settings: Map<string, string>
}

/** Options of {@link createCatalog}. */
export interface CatalogInit {
  schema: () => SchemaInfo
  serverVersion: string
}

/** The emulated `pg_catalog` / `information_schema`, answering tool queries from the store schema. */
export interface Catalog {
  /** Runs a (PostgreSQL-dialect) catalog query. Throws SQLite's error for what it cannot answer. */
  query(sql: string, params: readonly SqlValue[], session: CatalogSession): ResultSet
  close(): void
}

function toInput (v: SqlValue): SQLInputValue {
  return v
}

function parseArray (v: SQLOutputValue): string[] {
  if (v === null || v === undefined) return []
  const s = String(v)
  const inner = s.startsWith('{') && s.endsWith('}') ? s.slice(1, -1) : s
  if (inner === '') return []
  return inner.split(s.startsWith('{') ? ',' : ' ').map((x) => x.replace(/^"|"$/g, ''))
}

/** Creates the catalog database (in memory, `node:sqlite`), rebuilt whenever the schema changes. */
export function createCatalog (init: CatalogInit): Catalog {
  const db = new DatabaseSync(':memory:')
  db.exec("ATTACH DATABASE ':memory:' AS pg_catalog")
  db.exec("ATTACH DATABASE ':memory:' AS information_schema")
  for (const t of CATALOG_TABLES) db.exec(catalogDdl(t))

  let model: CatalogModel | null = null
  let signature = ''
  let session: CatalogSession = { user: 'patina', database: 'patina', pid: 0, settings: new Map() }
  const inserts = new Map<string, StatementSync>()

  const refresh = (): void => {
    const schema = init.schema()
    const sig = JSON.stringify(schema) + '\u0000' + session.user + '\u0000' + session.database
    if (sig === signature && model !== null) return
    model = buildCatalogModel(schema, { user: session.user, database: session.database })
    db.exec('BEGIN')
    try {
      for (const t of CATALOG_TABLES) {
        const key = `${t.schema}.${t.name}`
        db.exec(`DELETE FROM ${t.schema}."${t.name}"`)
        const list = model.rows.get(t.schema === 'pg_catalog' ? t.name : key) ?? []
        if (list.length === 0) continue
        let stmt = inserts.get(key)
        if (stmt === undefined) {
          stmt = db.prepare(`INSERT INTO ${t.schema}."${t.name}" (${t.columns.map((c) => `"${c.name}"`).join(', ')}) VALUES (${t.columns.map(() => '?').join(', ')})`)
          inserts.set(key, stmt)
        }
        for (const row of list) stmt.run(...t.columns.map((c) => row[c.name] ?? null))
      }
      db.exec('COMMIT')
    } catch (err) {
      db.exec('ROLLBACK')
      throw err
    }
    signature = sig
  }

  const fn = (name: string, f: (...args: SQLOutputValue[]) => SQLInputValue): void => {
    db.function(name, { varargs: true, deterministic: false }, f)
  }
  const regexCache = new Map<string, RegExp>()
  fn('regexp', (pattern, value) => {
    if (pattern == null || value == null) return null
    let p = String(pattern)
    let key = p
    let flags = 'u'
    if (p.startsWith('(?i)')) { p = p.slice(4); flags = 'iu' }
    key = flags + key
    let re = regexCache.get(key)
    if (re === undefined) {
      re = new RegExp(p, flags)
      if (regexCache.size > 200) regexCache.clear()
      regexCache.set(key, re)
    }
    return re.test(String(value)) ? 1 : 0
  })
  fn('version', () => `PostgreSQL ${init.serverVersion} (Patina) on x86_64-pc-linux-gnu, compiled by TypeScript, 64-bit`)
  fn('current_schema', () => 'public')
  fn('current_schemas', () => '{pg_catalog,public}')
  fn('current_database', () => session.database)
  fn('current_catalog', () => session.database)
  fn('current_user', () => session.user)
  fn('current_role', () => session.user)
  fn('session_user', () => session.user)
  fn('user', () => session.user)
  fn('current_setting', (name) => session.settings.get(String(name).toLowerCase()) ?? null)
  fn('set_config', (_name, value) => value ?? null)
  fn('pg_backend_pid', () => session.pid)
  fn('pg_is_in_recovery', () => 0)
  fn('txid_current', () => 1)
  fn('inet_server_addr', () => '127.0.0.1')
  fn('inet_server_port', () => null)
  fn('pg_postmaster_start_time', () => new Date(0).toISOString())
  fn('localtimestamp', () => new Date().toISOString().replace('T', ' ').replace('Z', ''))
  fn('pg_encoding_to_char', () => 'UTF8')
  fn('getdatabaseencoding', () => 'UTF8')
  fn('pg_tablespace_location', () => '')
  fn('pg_char_to_encoding', () => 6)
  fn('pg_table_is_visible', () => 1)
  fn('pg_type_is_visible', () => 1)
  fn('pg_function_is_visible', () => 1)
  fn('pg_collation_is_visible', () => 1)
  fn('pg_opclass_is_visible', () => 1)
  for (const n of ['pg_statistics_obj_is_visible', 'pg_operator_is_visible', 'pg_conversion_is_visible', 'pg_ts_config_is_visible', 'pg_ts_parser_is_visible', 'pg_ts_dict_is_visible', 'pg_ts_template_is_visible', 'pg_opfamily_is_visible']) fn(n, () => 1)
  fn('pg_relation_is_publishable', () => 0)
  // Set-returning in PostgreSQL (the relation and its ancestors); without partitions, just the relation.
  fn('pg_partition_ancestors', (oid) => (oid == null ? null : Number(oid)))
  fn('pg_partition_root', (oid) => (oid == null ? null : Number(oid)))
  for (const n of ['has_table_privilege', 'has_schema_privilege', 'has_database_privilege', 'has_column_privilege', 'has_any_column_privilege', 'pg_has_role']) fn(n, () => 1)
  for (const n of ['pg_total_relation_size', 'pg_relation_size', 'pg_table_size', 'pg_indexes_size', 'pg_database_size']) fn(n, () => 0)
  for (const n of ['obj_description', 'col_description', 'shobj_description', 'pg_get_viewdef', 'pg_get_triggerdef', 'pg_get_functiondef', 'pg_get_function_arguments', 'pg_get_function_result', 'pg_get_function_identity_arguments', 'pg_get_statisticsobjdef_columns', 'pg_get_partkeydef', 'pg_get_partition_constraintdef', 'pg_get_ruledef', 'pg_get_serial_sequence']) fn(n, () => null)
  fn('pg_size_pretty', (n) => `${Number(n ?? 0)} bytes`)
  fn('quote_ident', (s) => (s == null ? null : quoteIdent(String(s))))
  fn('format_type', (oid, typmod) => {
    if (oid == null) return null
    const name = typeDisplayName(Number(oid))
    const mod = typmod == null ? -1 : Number(typmod)
    return mod > 4 && (name === 'character varying' || name === 'character') ? `${name}(${mod - 4})` : name
  })
  fn('pg_get_expr', (expr) => (expr == null ? null : String(expr)))
  fn('pg_get_userbyid', () => session.user)
  fn('pg_get_indexdef', (oid, col) => {
    if (oid == null || model === null) return null
    const c = col == null ? 0 : Number(col)
    if (c > 0) return model.indexColumns.get(Number(oid))?.[c - 1] ?? ''
    return model.indexDefs.get(Number(oid)) ?? null
  })
  fn('pg_get_constraintdef', (oid) => (oid == null || model === null ? null : model.constraintDefs.get(Number(oid)) ?? null))
  fn('pg_regclass_name', (oid) => (oid == null || model === null ? null : model.relNames.get(Number(oid)) ?? String(oid)))
  fn('pg_regclass_oid', (name) => {
    if (name == null || model === null) return null
    if (/^\d+$/.test(String(name))) return Number(name)
    const n = String(name).replace(/^public\./, '').replace(/^"|"$/g, '')
    for (const [oid, rel] of model.relNames) if (rel === n || rel === quoteIdent(n)) return oid
    return null
  })
  fn('pg_regnamespace_name', (oid) => ({ 11: 'pg_catalog', 2200: 'public', 13000: 'information_schema', 99: 'pg_toast' } as Record<number, string>)[Number(oid)] ?? (oid == null ? null : String(oid)))
  fn('pg_regtype_oid', (name) => TYPES.find((t) => t.name === String(name))?.oid ?? null)
  fn('array_to_string', (arr, sep) => parseArray(arr).join(sep == null ? '' : String(sep)))
  fn('array_length', (arr) => { const a = parseArray(arr); return a.length === 0 ? null : a.length })
  fn('cardinality', (arr) => parseArray(arr).length)
  fn('pg_array_contains', (arr, v) => (v == null ? null : parseArray(arr).includes(String(v)) ? 1 : 0))
  // node:sqlite aggregates arrived in Node 22.16 / 24; without them array_agg is just unavailable.
  if (typeof db.aggregate === 'function') db.aggregate('pg_array_agg', {
    start: () => [] as string[],
    step: (acc: string[], v: SQLOutputValue) => { acc.push(v == null ? 'NULL' : String(v)); return acc },
    result: (acc: string[]) => `{${acc.join(',')}}`
  } as never)

  return {
    query (sql, params, s) {
      session = s
      refresh()
      const rewritten = rewriteForSqlite(rewriteCatalogSql(sql))
      const stmt = db.prepare(rewritten.sql)
      stmt.setReturnArrays(true)
      const meta = stmt.columns()
      const rows = stmt.iterate(...rewritten.paramOrder.map((i) => toInput(params[i] ?? null))) as unknown as Iterator<SqlValue[]>
      return resultFromCursor({
        columns: meta.map((c) => ({ name: c.name, type: c.type })),
        rows: { [Symbol.iterator] () { return this }, next: () => rows.next() } as IterableIterator<SqlValue[]>,
        close: () => { rows.return?.() }
      }, catalogDeclToOid)
    },
    close () {
      db.close()
    }
  }
}

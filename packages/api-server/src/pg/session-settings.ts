import { PgUnknownObjectError } from './errors.ts'
import { leadingWords } from './sql-lexer.ts'

/** Parameters reported to the client at startup (and again when a SET changes one of them). */
export const REPORTED_PARAMETERS = [
  'server_version', 'server_encoding', 'client_encoding', 'application_name', 'DateStyle', 'IntervalStyle',
  'TimeZone', 'integer_datetimes', 'standard_conforming_strings', 'is_superuser', 'session_authorization'
] as const

/** Default session settings; names are case-insensitive (stored lower-case). */
export function defaultSettings (init: { serverVersion: string, user: string, database: string, startup: Record<string, string> }): Map<string, string> {
  const s = new Map<string, string>([
    ['server_version', init.serverVersion],
    ['server_version_num', String(Number(init.serverVersion.split('.')[0]) * 10000 + Number(init.serverVersion.split('.')[1] ?? 0))],
    ['server_encoding', 'UTF8'],
    ['client_encoding', 'UTF8'],
    ['application_name', ''],
    ['datestyle', 'ISO, MDY'],
    ['intervalstyle', 'postgres'],
    ['timezone', 'UTC'],
    ['integer_datetimes', 'on'],
    ['standard_conforming_strings', 'on'],
    ['is_superuser', 'on'],
    ['session_authorization', init.user],
    ['search_path', '"$user", public'],
    ['transaction_isolation', 'serializable'],
    ['default_transaction_isolation', 'serializable'],
    ['transaction_read_only', 'off'],
    ['default_transaction_read_only', 'off'],
    ['max_identifier_length', '63'],
    ['statement_timeout', '0'],
    ['lc_collate', 'C.UTF-8'],
    ['lc_ctype', 'C.UTF-8'],
    ['lc_messages', 'C.UTF-8'],
    ['extra_float_digits', '1'],
    ['bytea_output', 'hex'],
    ['max_connections', '100'],
    ['block_size', '8192'],
    ['wal_level', 'minimal'],
    ['ssl', 'off']
  ])
  for (const [k, v] of Object.entries(init.startup)) {
    if (k === 'user' || k === 'database' || k === 'options' || k === 'replication') continue
    s.set(k.toLowerCase(), v)
  }
  return s
}

/** The name a reported parameter is sent under (its canonical case). */
export function reportedName (lower: string): string | undefined {
  return REPORTED_PARAMETERS.find((p) => p.toLowerCase() === lower)
}

function unquote (v: string): string {
  const t = v.trim()
  if (t.startsWith('\'') && t.endsWith('\'')) return t.slice(1, -1).replaceAll('\'\'', '\'')
  if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1)
  return t
}

/** Parses `SET [SESSION|LOCAL] name {TO|=} value` / `SET TIME ZONE v` into a name and value, or `null`. */
export function parseSet (sql: string): { name: string, value: string } | null {
  const words = leadingWords(sql, 4)
  const body = sql.trim().replace(/;\s*$/, '').replace(/^SET\s+(SESSION\s+|LOCAL\s+)?/i, '')
  if (words[1] === 'TIME' || (words[2] === 'TIME' && words[3] === 'ZONE')) {
    return { name: 'timezone', value: unquote(body.replace(/^TIME\s+ZONE\s+/i, '')) }
  }
  const m = /^("?[\w.]+"?)\s*(?:=|\bTO\b)\s*([\s\S]*)$/i.exec(body)
  if (m === null) return null
  const name = (m[1] as string).replace(/"/g, '').toLowerCase()
  const value = (m[2] as string).split(',').map(unquote).join(', ')
  return { name, value: /^default$/i.test(value) ? '' : value }
}

/** Parses `SHOW name`; returns the lower-case name (`all` for `SHOW ALL`). */
export function parseShow (sql: string): string {
  const m = /^\s*SHOW\s+("?[\w.]+"?(?:\s+ZONE)?)\s*;?\s*$/i.exec(sql)
  if (m === null) throw new PgUnknownObjectError('syntax error in SHOW', { sqlState: '42601' })
  const name = (m[1] as string).replace(/"/g, '').toLowerCase()
  return name.replace(/^time\s+zone$/, 'timezone')
}

import { lexSql } from './sql-lexer.ts'

const SESSION_FUNCS = /\b(version|current_schema|current_schemas|current_database|current_setting|set_config|current_user|session_user|current_role|current_catalog|pg_backend_pid|has_table_privilege|has_schema_privilege|has_database_privilege|format_type|obj_description|col_description|pg_is_in_recovery|pg_postmaster_start_time|txid_current|inet_server_addr|inet_server_port|pg_encoding_to_char|quote_ident|pg_size_pretty)\b/i
const CATALOG_NAMES = /\b(pg_catalog|information_schema)\s*\.|\bpg_[a-z_]+\b/i

/** Whether a statement reads the emulated catalog or session functions rather than user tables. */
export function isCatalogQuery (sql: string): boolean {
  for (const t of lexSql(sql)) {
    if (t.kind !== 'code') continue
    if (CATALOG_NAMES.test(t.text) || SESSION_FUNCS.test(t.text)) return true
  }
  return false
}

/**
 * Rewrites a PostgreSQL catalog query into SQLite for the in-memory catalog database: regex
 * operators become `REGEXP`, collations and `pg_catalog.` function prefixes go, `regclass`/`regtype`
 * casts become lookups, the array expressions psql uses are replaced by their (empty) values.
 * Casts and `$n` are handled afterwards by `rewriteForSqlite`.
 */
export function rewriteCatalogSql (sql: string): string {
  // Hide string literals behind placeholders so rewrites only ever touch code.
  const strings: string[] = []
  let text = ''
  for (const t of lexSql(sql)) {
    if (t.kind === 'comment') { text += ' '; continue }
    if (t.kind === 'string') {
      strings.push(t.text)
      text += `\u0001${strings.length - 1}\u0001`
      continue
    }
    text += t.text
  }
  const S = String.raw`\u0001\d+\u0001`
  text = text
    // psql's reloptions listing: arrays of options are always empty here.
    .replace(new RegExp(String.raw`(?:pg_catalog\.)?array_to_string\(\s*c\.reloptions\s*\|\|\s*array\(\s*select\s+${S}\s*\|\|\s*x\s+from\s+(?:pg_catalog\.)?unnest\(\s*tc\.reloptions\s*\)\s*x\s*\)\s*,\s*${S}\s*\)`, 'gi'), "''")
    .replace(/\barray\s*\(\s*select\b/gi, '(SELECT ')
    // Arrays in the catalog are always empty, so unnesting one yields no rows.
    .replace(/(?:pg_catalog\.)?unnest\s*\(([^()]*)\)\s+(?:AS\s+)?(\w+)\s*\(\s*(\w+)\s*\)/gi, '(SELECT NULL AS $3 WHERE 0) AS $2')
    // The tableoid system column: no catalog row is described, so it matches nothing.
    .replace(/\b\w+\.tableoid\b/gi, 'NULL')
    // Without partitions a relation's ancestors are itself.
    .replace(/(?:pg_catalog\.)?pg_partition_ancestors\(([^)]*)\)\s+WITH\s+ORDINALITY\s+AS\s+(\w+)\s*\(\s*(\w+)\s*,\s*(\w+)\s*\)/gi, '(SELECT $1 AS $3, 1 AS $4) AS $2')
    .replace(new RegExp(String.raw`(${S})\s*::\s*(?:pg_catalog\.)?regclass\b`, 'gi'), 'pg_regclass_oid($1)')
    .replace(/((?:\b\w+\.)?\b\w+)\s*::\s*(?:pg_catalog\.)?regclass\b/gi, 'pg_regclass_name($1)')
    .replace(new RegExp(String.raw`(${S})\s*::\s*(?:pg_catalog\.)?regtype\b`, 'gi'), 'pg_regtype_oid($1)')
    .replace(/((?:\b\w+\.)?\b\w+)\s*::\s*(?:pg_catalog\.)?regtype\b/gi, 'format_type($1, NULL)')
    .replace(/((?:\b\w+\.)?\b\w+)\s*::\s*(?:pg_catalog\.)?regnamespace\b/gi, 'pg_regnamespace_name($1)')
    .replace(/OPERATOR\s*\(\s*pg_catalog\s*\.\s*(!?~\*?|=|<>|~~\*?|!~~\*?)\s*\)/gi, ' $1 ')
    .replace(/!~\*/g, ` NOT REGEXP '(?i)' || `)
    .replace(/~\*/g, ` REGEXP '(?i)' || `)
    .replace(/!~~\*?/g, ' NOT LIKE ')
    .replace(/~~\*?/g, ' LIKE ')
    .replace(/!~/g, ' NOT REGEXP ')
    .replace(/(^|[^\w])~(?=\s*[\w(\u0001])/g, (_m, p: string) => `${p} REGEXP `)
    .replace(/\bCOLLATE\s+(?:pg_catalog\s*\.\s*)?(?:"default"|default|"C"|C|"POSIX"|POSIX)\b"?/gi, '')
    .replace(/\bpg_catalog\s*\.\s*(\w+)\s*\(/gi, '$1(')
    .replace(/\bAS\s+pg_catalog\s*\.\s*(\w+)\s*\)/gi, 'AS $1)')
    .replace(/\b(current_user|session_user|current_role|current_catalog|current_schema|localtimestamp)\b(?!\s*\()/gi, '$1()')
    .replace(/\bILIKE\b/gi, 'LIKE')
    .replace(/\bIS\s+NOT\s+DISTINCT\s+FROM\b/gi, 'IS')
    .replace(/\bIS\s+DISTINCT\s+FROM\b/gi, 'IS NOT')
    .replace(/\bstring_agg\s*\(/gi, 'group_concat(')
    .replace(/\barray_agg\s*\(/gi, 'pg_array_agg(')
    // `x = ANY (array)` → membership test in the array's text form.
    .replace(new RegExp(String.raw`(${S}|(?:\b\w+\.)?\b\w+)\s*=\s*ANY\s*\(\s*((?:\b\w+\.)?\b\w+)\s*\)`, 'gi'), 'pg_array_contains($2, $1)')
  return text.replace(/\u0001(\d+)\u0001/g, (_m, i: string) => strings[Number(i)] ?? "''")
}

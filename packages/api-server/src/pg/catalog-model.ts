import { OID, TYPES, oidForDeclaredType, typeDisplayName, typeSize } from './types.ts'
import { splitTopLevel } from './sql-lexer.ts'
import type { SchemaInfo, TableInfo } from '../ports.ts'

/** Well-known OIDs of catalog objects. */
export const CATALOG_OID = {
  pgCatalog: 11,
  public: 2200,
  informationSchema: 13000,
  pgToast: 99,
  heap: 2,
  btree: 403,
  role: 10,
  database: 16383,
  pgClass: 1259,
  firstUser: 16384
} as const

/** Rows of one catalog table, keyed by column name (absent columns are NULL). */
export type CatalogRow = Record<string, string | number | null>

/** The catalog rows and the lookups its functions need, derived from the store schema. */
export interface CatalogModel {
  rows: Map<string, CatalogRow[]>
  /** `pg_get_indexdef` text by index OID. */
  indexDefs: Map<number, string>
  /** `pg_get_constraintdef` text by constraint OID. */
  constraintDefs: Map<number, string>
  /** Relation name by OID (for `regclass` output). */
  relNames: Map<number, string>
  /** Column definitions by `relid:attnum`, for `pg_get_indexdef(oid, col, …)`. */
  indexColumns: Map<number, string[]>
}

/** Quotes an identifier the way PostgreSQL prints it (only when needed). */
export function quoteIdent (name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) ? name : `"${name.replaceAll('"', '""')}"`
}

/** One index key: the column it names (when it is a plain column) and its display text. */
interface IndexKey {
  column: string | null
  text: string
}

interface ParsedIndex {
  unique: boolean
  columns: IndexKey[]
  where: string | null
}

/** Reads `CREATE [UNIQUE] INDEX … ON t (a, b DESC) [WHERE …]` loosely; unknown shapes yield no columns. */
function parseIndexSql (sql: string): ParsedIndex {
  const unique = /^\s*CREATE\s+UNIQUE\b/i.test(sql)
  const on = /\bON\s+(?:"[^"]+"|`[^`]+`|\[[^\]]+\]|[\w.]+)\s*\(/i.exec(sql)
  if (on === null) return { unique, columns: [], where: null }
  let depth = 1
  let i = on.index + on[0].length
  const start = i
  for (; i < sql.length && depth > 0; i++) {
    if (sql[i] === '(') depth++
    else if (sql[i] === ')') depth--
  }
  const columns = splitTopLevel(sql.slice(start, i - 1)).map(c => c.trim())
  if (columns[columns.length - 1] === '') columns.pop()
  const where = /\)\s*WHERE\s+([\s\S]+)$/i.exec(sql.slice(i - 1))
  return { unique, columns: columns.map(indexKey), where: where?.[1]?.trim() ?? null }
}

/** `"a b" DESC` → column `a b`, text `"a b" DESC`; an expression keeps its text and no column. */
function indexKey (expr: string): IndexKey {
  const m = /^(?:"((?:[^"]|"")+)"|`([^`]+)`|\[([^\]]+)\]|([A-Za-z_]\w*))(\s+(?:COLLATE\s+\S+\s*)?(?:ASC|DESC)?)?\s*$/i.exec(expr.trim())
  if (m === null) return { column: null, text: expr.trim() }
  const column = (m[1]?.replaceAll('""', '"') ?? m[2] ?? m[3] ?? m[4]) as string
  return { column, text: quoteIdent(column) + (m[5] ?? '').replace(/\s+/g, ' ').trimEnd() }
}

function typmodOf (declared: string): number {
  const m = /\(\s*(\d+)/.exec(declared)
  if (m === null) return -1
  const oid = oidForDeclaredType(declared)
  return oid === OID.varchar || oid === OID.bpchar ? Number(m[1]) + 4 : -1
}

function boolNum (b: boolean): number {
  return b ? 1 : 0
}

/** Builds the catalog for a schema; OIDs are assigned in table-name order from 16384. */
export function buildCatalogModel (schema: SchemaInfo, init: { user: string, database: string }): CatalogModel {
  const rows = new Map<string, CatalogRow[]>()
  const add = (table: string, row: CatalogRow): void => {
    let list = rows.get(table)
    if (list === undefined) rows.set(table, (list = []))
    list.push(row)
  }
  const indexDefs = new Map<number, string>()
  const constraintDefs = new Map<number, string>()
  const relNames = new Map<number, string>()
  const indexColumns = new Map<number, string[]>()

  add('pg_namespace', { oid: CATALOG_OID.pgCatalog, nspname: 'pg_catalog', nspowner: CATALOG_OID.role })
  add('pg_namespace', { oid: CATALOG_OID.public, nspname: 'public', nspowner: CATALOG_OID.role })
  add('pg_namespace', { oid: CATALOG_OID.informationSchema, nspname: 'information_schema', nspowner: CATALOG_OID.role })
  add('pg_namespace', { oid: CATALOG_OID.pgToast, nspname: 'pg_toast', nspowner: CATALOG_OID.role })
  add('pg_am', { oid: CATALOG_OID.heap, amname: 'heap', amhandler: 3, amtype: 't' })
  add('pg_am', { oid: CATALOG_OID.btree, amname: 'btree', amhandler: 330, amtype: 'i' })
  add('pg_roles', { oid: CATALOG_OID.role, rolname: init.user, rolsuper: 1, rolinherit: 1, rolcreaterole: 1, rolcreatedb: 1, rolcanlogin: 1, rolreplication: 0, rolconnlimit: -1, rolpassword: '********', rolbypassrls: 1 })
  add('pg_user', { usename: init.user, usesysid: CATALOG_OID.role, usecreatedb: 1, usesuper: 1, userepl: 0, usebypassrls: 1, passwd: '********' })
  add('pg_database', { oid: CATALOG_OID.database, datname: init.database, datdba: CATALOG_OID.role, encoding: 6, datlocprovider: 'c', datistemplate: 0, datallowconn: 1, datconnlimit: -1, dattablespace: 1663, datcollate: 'C.UTF-8', datctype: 'C.UTF-8' })
  add('pg_tablespace', { oid: 1663, spcname: 'pg_default', spcowner: CATALOG_OID.role })
  add('pg_collation', { oid: 100, collname: 'default', collnamespace: CATALOG_OID.pgCatalog, collowner: CATALOG_OID.role, collprovider: 'd', collisdeterministic: 1, collencoding: -1 })
  add('pg_language', { oid: 12, lanname: 'internal', lanowner: CATALOG_OID.role, lanispl: 0, lanpltrusted: 0 })
  add('pg_language', { oid: 14, lanname: 'sql', lanowner: CATALOG_OID.role, lanispl: 0, lanpltrusted: 1 })
  for (const t of TYPES) {
    add('pg_type', {
      oid: t.oid, typname: t.name, typnamespace: CATALOG_OID.pgCatalog, typowner: CATALOG_OID.role, typlen: t.len,
      typbyval: boolNum(t.len > 0 && t.len <= 8), typtype: t.oid === OID.unknown ? 'p' : 'b', typcategory: t.category, typispreferred: 0,
      typisdefined: 1, typdelim: ',', typrelid: 0, typsubscript: 0, typelem: t.elem, typarray: t.array, typinput: 0, typoutput: 0,
      typreceive: 0, typsend: 0, typalign: t.len === 8 ? 'd' : t.len === 2 ? 's' : t.len === 1 ? 'c' : 'i', typstorage: t.len === -1 ? 'x' : 'p',
      typnotnull: 0, typbasetype: 0, typtypmod: -1, typndims: 0, typcollation: t.category === 'S' ? 100 : 0
    })
  }

  const tables = [...schema.tables].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  let next: number = CATALOG_OID.firstUser
  const tableOids = new Map<string, number>()
  for (const t of tables) {
    const oid = next
    next += 2
    tableOids.set(t.name, oid)
  }
  const tableOfName = new Map(tables.map((t) => [t.name, t]))
  const indexesByTable = new Map<string, typeof schema.indexes>()
  for (const ix of schema.indexes) {
    const list = indexesByTable.get(ix.table) ?? []
    list.push(ix)
    indexesByTable.set(ix.table, list)
  }

  // Foreign keys make PostgreSQL set relhastriggers on both sides; psql lists FKs only then.
  const fkInvolved = new Set<string>()
  for (const t of tables) {
    for (const fk of parseForeignKeys(t)) { fkInvolved.add(t.name); fkInvolved.add(fk.table) }
  }

  for (const t of tables) {
    const relid = tableOids.get(t.name) as number
    relNames.set(relid, quoteIdent(t.name))
    const pkCols = t.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk)
    const userIndexes = indexesByTable.get(t.name) ?? []
    const hasIndex = pkCols.length > 0 || userIndexes.length > 0
    add('pg_class', { ...classRow(relid, t.name, 'r', t.columns.length, hasIndex, relid + 1, CATALOG_OID.heap), relhastriggers: boolNum(fkInvolved.has(t.name)) })
    add('pg_type', {
      oid: relid + 1, typname: t.name, typnamespace: CATALOG_OID.public, typowner: CATALOG_OID.role, typlen: -1, typbyval: 0,
      typtype: 'c', typcategory: 'C', typispreferred: 0, typisdefined: 1, typdelim: ',', typrelid: relid, typelem: 0, typarray: 0,
      typalign: 'd', typstorage: 'x', typnotnull: 0, typbasetype: 0, typtypmod: -1, typndims: 0, typcollation: 0
    })
    add('pg_tables', { schemaname: 'public', tablename: t.name, tableowner: init.user, hasindexes: boolNum(hasIndex), hasrules: 0, hastriggers: boolNum(fkInvolved.has(t.name)), rowsecurity: 0 })
    add('information_schema.tables', {
      table_catalog: init.database, table_schema: 'public', table_name: t.name, table_type: 'BASE TABLE', is_insertable_into: 'YES', is_typed: 'NO'
    })
    t.columns.forEach((c, i) => {
      const atttypid = oidForDeclaredType(c.type)
      const notNull = c.notNull || c.pk > 0
      add('pg_attribute', {
        attrelid: relid, attname: c.name, atttypid, attstattarget: -1, attlen: typeSize(atttypid), attnum: i + 1, attndims: 0,
        attcacheoff: -1, atttypmod: typmodOf(c.type), attbyval: boolNum(typeSize(atttypid) > 0), attalign: 'i', attstorage: 'x',
        attcompression: '', attnotnull: boolNum(notNull), atthasdef: boolNum(c.defaultValue !== null), atthasmissing: 0,
        attidentity: '', attgenerated: '', attisdropped: 0, attislocal: 1, attinhcount: 0,
        attcollation: atttypid === OID.text || atttypid === OID.varchar || atttypid === OID.bpchar ? 100 : 0
      })
      if (c.defaultValue !== null) add('pg_attrdef', { oid: next++, adrelid: relid, adnum: i + 1, adbin: c.defaultValue })
      add('information_schema.columns', {
        table_catalog: init.database, table_schema: 'public', table_name: t.name, column_name: c.name, ordinal_position: i + 1,
        column_default: c.defaultValue, is_nullable: notNull ? 'NO' : 'YES', data_type: typeDisplayName(atttypid),
        udt_catalog: init.database, udt_schema: 'pg_catalog', udt_name: TYPES.find((x) => x.oid === atttypid)?.name ?? 'text',
        is_identity: 'NO', is_generated: 'NEVER', is_updatable: 'YES'
      })
    })
    const attnum = (name: string): number => t.columns.findIndex((c) => c.name.toLowerCase() === name.toLowerCase()) + 1
    // An index relation has attributes too (`\d index` lists them).
    const indexAttributes = (ixOid: number, keys: IndexKey[]): void => {
      keys.forEach((key, i) => {
        const col = key.column === null ? undefined : t.columns[attnum(key.column) - 1]
        const expr = key.text
        const typid = col === undefined ? OID.text : oidForDeclaredType(col.type)
        add('pg_attribute', {
          attrelid: ixOid, attname: col?.name ?? expr, atttypid: typid, attstattarget: -1, attlen: typeSize(typid), attnum: i + 1,
          attndims: 0, attcacheoff: -1, atttypmod: col === undefined ? -1 : typmodOf(col.type), attbyval: boolNum(typeSize(typid) > 0),
          attalign: 'i', attstorage: 'p', attcompression: '', attnotnull: 0, atthasdef: 0, atthasmissing: 0, attidentity: '',
          attgenerated: '', attisdropped: 0, attislocal: 1, attinhcount: 0, attcollation: 0
        })
      })
    }

    if (pkCols.length > 0) {
      const ixOid = next++
      const conOid = next++
      const name = `${t.name}_pkey`
      const cols = pkCols.map((c) => quoteIdent(c.name))
      indexColumns.set(ixOid, cols)
      indexAttributes(ixOid, pkCols.map((c) => ({ column: c.name, text: quoteIdent(c.name) })))
      relNames.set(ixOid, quoteIdent(name))
      add('pg_class', classRow(ixOid, name, 'i', pkCols.length, false, 0, CATALOG_OID.btree))
      add('pg_index', indexRow(ixOid, relid, pkCols.map((c) => attnum(c.name)), true, true))
      indexDefs.set(ixOid, `CREATE UNIQUE INDEX ${quoteIdent(name)} ON public.${quoteIdent(t.name)} USING btree (${cols.join(', ')})`)
      add('pg_indexes', { schemaname: 'public', tablename: t.name, indexname: name, indexdef: indexDefs.get(ixOid) ?? null })
      add('pg_constraint', constraintRow(conOid, name, 'p', relid, ixOid, pkCols.map((c) => attnum(c.name))))
      constraintDefs.set(conOid, `PRIMARY KEY (${cols.join(', ')})`)
      addKeyUsage(init.database, t, name, 'PRIMARY KEY', pkCols.map((c) => c.name), add)
    }
    for (const ix of userIndexes) {
      const parsed = parseIndexSql(ix.sql)
      const ixOid = next++
      const keys = parsed.columns.map((c) => (c.column === null ? 0 : attnum(c.column)))
      indexColumns.set(ixOid, parsed.columns.map((c) => c.text))
      indexAttributes(ixOid, parsed.columns)
      relNames.set(ixOid, quoteIdent(ix.name))
      add('pg_class', classRow(ixOid, ix.name, 'i', parsed.columns.length, false, 0, CATALOG_OID.btree))
      add('pg_index', { ...indexRow(ixOid, relid, keys, parsed.unique, false), indpred: parsed.where })
      const where = parsed.where === null ? '' : ` WHERE (${parsed.where})`
      indexDefs.set(ixOid, `CREATE ${parsed.unique ? 'UNIQUE ' : ''}INDEX ${quoteIdent(ix.name)} ON public.${quoteIdent(t.name)} USING btree (${parsed.columns.map((c) => c.text).join(', ')})${where}`)
      add('pg_indexes', { schemaname: 'public', tablename: t.name, indexname: ix.name, indexdef: indexDefs.get(ixOid) ?? null })
    }
    for (const fk of parseForeignKeys(t)) {
      const target = tableOfName.get(fk.table)
      const conOid = next++
      const name = `${t.name}_${fk.columns.join('_')}_fkey`
      const targetCols = fk.refColumns.length > 0 ? fk.refColumns : (target?.columns.filter((c) => c.pk > 0).map((c) => c.name) ?? [])
      add('pg_constraint', {
        ...constraintRow(conOid, name, 'f', relid, 0, fk.columns.map(attnum)),
        confrelid: tableOids.get(fk.table) ?? 0,
        confkey: `{${targetCols.map((c) => (target?.columns.findIndex((x) => x.name === c) ?? -1) + 1).join(',')}}`
      })
      constraintDefs.set(conOid, `FOREIGN KEY (${fk.columns.map(quoteIdent).join(', ')}) REFERENCES ${quoteIdent(fk.table)}(${targetCols.map(quoteIdent).join(', ')})`)
    }
  }
  return { rows, indexDefs, constraintDefs, relNames, indexColumns }
}

function classRow (oid: number, name: string, kind: 'r' | 'i', natts: number, hasIndex: boolean, reltype: number, am: number): CatalogRow {
  return {
    oid, relname: name, relnamespace: CATALOG_OID.public, reltype, reloftype: 0, relowner: CATALOG_OID.role, relam: am,
    relfilenode: oid, reltablespace: 0, relpages: 0, reltuples: -1, relallvisible: 0, reltoastrelid: 0,
    relhasindex: boolNum(hasIndex), relisshared: 0, relpersistence: 'p', relkind: kind, relnatts: natts, relchecks: 0,
    relhasrules: 0, relhastriggers: 0, relhassubclass: 0, relrowsecurity: 0, relforcerowsecurity: 0, relispopulated: 1,
    relreplident: kind === 'r' ? 'd' : 'n', relispartition: 0, relrewrite: 0, relfrozenxid: 0, relminmxid: 0
  }
}

function indexRow (oid: number, relid: number, keys: number[], unique: boolean, primary: boolean): CatalogRow {
  return {
    indexrelid: oid, indrelid: relid, indnatts: keys.length, indnkeyatts: keys.length, indisunique: boolNum(unique),
    indnullsnotdistinct: 0, indisprimary: boolNum(primary), indisexclusion: 0, indimmediate: 1, indisclustered: 0,
    indisvalid: 1, indcheckxmin: 0, indisready: 1, indislive: 1, indisreplident: 0, indkey: keys.join(' '),
    indcollation: keys.map(() => '0').join(' '), indclass: keys.map(() => '1978').join(' '), indoption: keys.map(() => '0').join(' ')
  }
}

function constraintRow (oid: number, name: string, type: string, relid: number, indid: number, keys: number[]): CatalogRow {
  return {
    oid, conname: name, connamespace: CATALOG_OID.public, contype: type, condeferrable: 0, condeferred: 0, convalidated: 1,
    conrelid: relid, contypid: 0, conindid: indid, conparentid: 0, confrelid: 0, confupdtype: 'a', confdeltype: 'a',
    confmatchtype: 's', conislocal: 1, coninhcount: 0, connoinherit: 1, conkey: `{${keys.join(',')}}`
  }
}

function addKeyUsage (db: string, t: TableInfo, name: string, type: string, cols: string[], add: (table: string, row: CatalogRow) => void): void {
  add('information_schema.table_constraints', {
    constraint_catalog: db, constraint_schema: 'public', constraint_name: name, table_catalog: db, table_schema: 'public',
    table_name: t.name, constraint_type: type, is_deferrable: 'NO', initially_deferred: 'NO', enforced: 'YES'
  })
  cols.forEach((c, i) => add('information_schema.key_column_usage', {
    constraint_catalog: db, constraint_schema: 'public', constraint_name: name, table_catalog: db, table_schema: 'public',
    table_name: t.name, column_name: c, ordinal_position: i + 1
  }))
}

/** Foreign keys declared in a table's SQL (column-level `REFERENCES` and table-level `FOREIGN KEY`). */
function parseForeignKeys (t: TableInfo): Array<{ columns: string[], table: string, refColumns: string[] }> {
  const out: Array<{ columns: string[], table: string, refColumns: string[] }> = []
  const ident = String.raw`(?:"((?:[^"]|"")+)"|\x60([^\x60]+)\x60|\[([^\]]+)\]|(\w+))`
  const unq = (m: RegExpExecArray, from: number): string => (m[from] ?? m[from + 1] ?? m[from + 2] ?? m[from + 3] ?? '').replaceAll('""', '"')
  const list = (s: string | undefined): string[] => (s ?? '').split(',').map((x) => x.trim().replace(/^["`[]|["`\]]$/g, '')).filter((x) => x !== '')
  for (const m of t.sql.matchAll(new RegExp(String.raw`FOREIGN\s+KEY\s*\(([^)]*)\)\s*REFERENCES\s+${ident}\s*(?:\(([^)]*)\))?`, 'gi'))) {
    out.push({ columns: list(m[1]), table: unq(m, 2), refColumns: list(m[6]) })
  }
  for (const c of t.columns) {
    const esc = c.name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
    const re = new RegExp(String.raw`(?:^|[(,])\s*["\x60[]?${esc}["\x60\]]?\s[^,]*?\bREFERENCES\s+${ident}\s*(?:\(([^)]*)\))?`, 'i')
    const m = re.exec(t.sql)
    if (m !== null) out.push({ columns: [c.name], table: unq(m, 1), refColumns: list(m[5]) })
  }
  return out
}

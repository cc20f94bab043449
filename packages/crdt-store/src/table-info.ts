import type { Database } from 'better-sqlite3'

/** SQLite column affinity, from the declared type. */
export type Affinity = 'INTEGER' | 'TEXT' | 'BLOB' | 'REAL' | 'NUMERIC'

/** A column as the store tracks it. */
export interface ColumnMeta {
  name: string
  type: string
  affinity: Affinity
  notNull: boolean
  defaultValue: string | null
  /** 1-based position in the primary key, 0 otherwise. */
  pk: number
}

/** A CRR table: primary-key columns (in key order) and tracked columns (in table order). */
export interface CrrTable {
  name: string
  pks: ColumnMeta[]
  cols: ColumnMeta[]
  /** A single INTEGER PRIMARY KEY: the clock table can use a rowid key. */
  intPk: boolean
}

/** Quotes an SQL identifier. */
export function q (name: string): string {
  return '"' + name.replaceAll('"', '""') + '"'
}

/** Quotes an SQL string literal. */
export function lit (s: string): string {
  return "'" + s.replaceAll("'", "''") + "'"
}

/** SQLite's affinity rules (section 3.1 of its datatype docs). */
export function affinityOf (type: string): Affinity {
  const t = type.toUpperCase()
  if (t.includes('INT')) return 'INTEGER'
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return 'TEXT'
  if (t.includes('BLOB') || t === '') return 'BLOB'
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return 'REAL'
  return 'NUMERIC'
}

interface PragmaCol { cid: number; name: string; type: string; notnull: number; dflt_value: string | null; pk: number; hidden?: number }

/** Columns of a table from `pragma_table_xinfo`, without generated/hidden columns. */
export function tableColumns (db: Database, table: string): ColumnMeta[] {
  const rows = db.prepare('SELECT * FROM pragma_table_xinfo(?)').all(table) as PragmaCol[]
  // a STRICT table's ANY column stores every value as given: no affinity, whatever its name says
  const strict = (db.prepare("SELECT strict FROM pragma_table_list WHERE schema = 'main' AND name = ?").get(table) as { strict: number } | undefined)?.strict === 1
  return rows.filter(r => (r.hidden ?? 0) === 0).map(r => ({
    name: r.name,
    type: r.type,
    affinity: strict && r.type.toUpperCase() === 'ANY' ? 'BLOB' : affinityOf(r.type),
    notNull: r.notnull !== 0,
    defaultValue: r.dflt_value,
    pk: r.pk
  }))
}

/** Reads a table's shape as a CRR. */
export function crrTable (db: Database, table: string): CrrTable {
  const cols = tableColumns(db, table)
  const pks = cols.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk)
  const rest = cols.filter(c => c.pk === 0)
  const intPk = pks.length === 1 && pks[0]!.type.toUpperCase() === 'INTEGER' && !isWithoutRowid(db, table) && pkIndex(db, table) == null
  return { name: table, pks, cols: rest, intPk }
}

/**
 * The index SQLite keeps for a primary key that is not the rowid (composite, non-INTEGER,
 * `INTEGER PRIMARY KEY DESC`, WITHOUT ROWID), or undefined when the key is the rowid itself.
 */
function pkIndex (db: Database, table: string): string | undefined {
  const row = db.prepare("SELECT name FROM pragma_index_list(?) WHERE origin = 'pk'").get(table) as { name: string } | undefined
  return row?.name
}

function isWithoutRowid (db: Database, table: string): boolean {
  const row = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined
  return row != null && /\)\s*(STRICT\s*,\s*)?WITHOUT\s+ROWID/i.test(row.sql)
}

/** One broken CRR rule: which rule and a message naming the table. */
export interface CrrViolation { rule: string; message: string; /** The index at fault (rule `unique`). */ index?: string }

/**
 * Checks cr-sqlite's rules for a CRR table; returns the first violation, or undefined. Rules: a
 * non-null primary key with the BINARY collation, no UNIQUE besides the PK, no AUTOINCREMENT, no
 * foreign keys, no multi-column CHECK, NOT NULL non-PK columns need a DEFAULT, and no column named
 * like a clock field.
 */
export function crrViolation (db: Database, table: string): CrrViolation | undefined {
  const exists = db.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(table) as { sql: string } | undefined
  if (exists == null) return { rule: 'table-missing', message: `table "${table}" does not exist` }
  const uniq = db.prepare("SELECT name FROM pragma_index_list(?) WHERE origin != 'pk' AND \"unique\" = 1").all(table) as { name: string }[]
  if (uniq.length > 0) return { rule: 'unique', index: uniq[0]!.name, message: `table "${table}" has a UNIQUE constraint or index besides the primary key (${uniq[0]!.name}); CRRs allow uniqueness only on the primary key` }
  const cols = db.prepare('SELECT * FROM pragma_table_xinfo(?)').all(table) as PragmaCol[]
  const pks = cols.filter(c => c.pk > 0)
  if (pks.length === 0) return { rule: 'primary-key', message: `table "${table}" has no primary key; CRRs need a primary key` }
  if (pks.length > 16) return { rule: 'primary-key-too-wide', message: `table "${table}" has ${pks.length} primary-key columns; at most 16 are supported` }
  const nullable = pks.filter(c => c.notnull === 0)
  if (nullable.length > 0) return { rule: 'primary-key-not-null', message: `table "${table}" has a nullable primary key column "${nullable[0]!.name}"; declare it NOT NULL` }
  const keyIndex = pkIndex(db, table)
  const collated = keyIndex == null ? undefined : db.prepare("SELECT name, coll FROM pragma_index_xinfo(?) WHERE key = 1 AND upper(coll) != 'BINARY'").get(keyIndex) as { name: string; coll: string } | undefined
  if (collated != null) return { rule: 'primary-key-collation', message: `table "${table}" has primary key column "${collated.name}" with COLLATE ${collated.coll}; replicas match keys byte for byte, so key columns must use the default BINARY collation` }
  const clash = clockNameClash(cols.filter(c => (c.hidden ?? 0) === 0))
  if (clash != null) return { rule: 'reserved-column-name', message: `table "${table}": column "${clash}" has the name of one of the store's clock fields; rename it` }
  if (/autoincrement/i.test(exists.sql)) return { rule: 'autoincrement', message: `table "${table}" uses AUTOINCREMENT; two nodes would assign the same key to unrelated rows` }
  const fks = db.prepare('SELECT count(*) AS n FROM pragma_foreign_key_list(?)').get(table) as { n: number }
  if (fks.n > 0) return { rule: 'foreign-key', message: `table "${table}" has a FOREIGN KEY; CRRs may not have checked foreign keys (replication can violate them)` }
  const multi = crossColumnCheck(exists.sql, cols.map(c => c.name))
  if (multi != null) return { rule: 'check', message: `table "${table}" has a CHECK constraint over several columns (${multi}); concurrent valid writes could merge into a row that breaks it` }
  const nn = cols.filter(c => c.notnull !== 0 && c.dflt_value == null && c.pk === 0 && (c.hidden ?? 0) === 0)
  if (nn.length > 0) return { rule: 'not-null-default', message: `table "${table}" has a NOT NULL column "${nn[0]!.name}" without a DEFAULT; give it a DEFAULT or make it nullable` }
  return undefined
}

/**
 * A column whose name the clock table already uses for something else (`__cl`, `__ss`, `__st`, or
 * another column's `c__v`, `c__s`, `c__t`), compared as SQLite compares names (ASCII case folded).
 */
function clockNameClash (cols: readonly PragmaCol[]): string | undefined {
  const seen = new Set(['__cl', '__ss', '__st'])
  for (const c of cols) if (c.pk === 0) for (const f of ['__v', '__s', '__t']) seen.add((c.name + f).toLowerCase())
  return cols.find(c => seen.has(c.name.toLowerCase()))?.name
}

/**
 * The first CHECK constraint of a CREATE TABLE statement that names two or more of the table's
 * columns (as "a, b"), or undefined. Single-column checks are safe: a value valid on its origin
 * stays valid wherever it merges.
 */
export function crossColumnCheck (sql: string, columns: readonly string[]): string | undefined {
  const names = new Set(columns.map(c => c.toLowerCase()))
  const text = sql.replace(/'(?:[^']|'')*'/g, "''")
  const re = /\bCHECK\s*\(/gi
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) != null) {
    let depth = 1
    let i = m.index + m[0].length
    const start = i
    while (i < text.length && depth > 0) {
      const ch = text[i]
      if (ch === '(') depth++
      else if (ch === ')') depth--
      i++
    }
    const expr = text.slice(start, i - 1)
    const used = new Set<string>()
    for (const t of expr.matchAll(/"((?:[^"]|"")*)"|`([^`]*)`|\[([^\]]*)\]|([A-Za-z_][A-Za-z0-9_$]*)/g)) {
      const id = (t[1]?.replaceAll('""', '"') ?? t[2] ?? t[3] ?? t[4] ?? '').toLowerCase()
      if (names.has(id)) used.add(id)
    }
    if (used.size > 1) return [...used].join(', ')
  }
  return undefined
}

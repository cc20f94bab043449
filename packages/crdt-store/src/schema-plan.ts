import Database from 'better-sqlite3'
import type { Database as Db } from 'better-sqlite3'
import { SchemaChangeError } from './errors.ts'
import { crrViolation, tableColumns, q } from './table-info.ts'
import type { ColumnMeta } from './table-info.ts'

/** Splits SQL text into statements, respecting quotes and comments. */
export function splitStatements (sql: string): string[] {
  const out: string[] = []
  let cur = ''
  let i = 0
  while (i < sql.length) {
    const ch = sql[i]!
    if (ch === "'" || ch === '"' || ch === '`' || ch === '[') {
      const close = ch === '[' ? ']' : ch
      let j = i + 1
      while (j < sql.length) {
        if (sql[j] === close) {
          if (close !== ']' && sql[j + 1] === close) { j += 2; continue }
          break
        }
        j++
      }
      cur += sql.slice(i, j + 1)
      i = j + 1
    } else if (ch === '-' && sql[i + 1] === '-') {
      const j = sql.indexOf('\n', i)
      i = j < 0 ? sql.length : j + 1
      cur += ' '
    } else if (ch === '/' && sql[i + 1] === '*') {
      const j = sql.indexOf('*/', i + 2)
      i = j < 0 ? sql.length : j + 2
      cur += ' '
    } else if (ch === ';') {
      if (cur.trim() !== '') out.push(cur.trim())
      cur = ''
      i++
    } else {
      cur += ch
      i++
    }
  }
  if (cur.trim() !== '') out.push(cur.trim())
  return out
}

/** A DEFAULT that ALTER TABLE ADD COLUMN accepts: a literal number, string, blob, NULL or boolean. */
const LITERAL = /^(NULL|TRUE|FALSE|[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?|'(?:[^']|'')*'|[xX]'[0-9a-fA-F]*')$/i

/** Column definitions of a CREATE TABLE statement by lower-case column name (table constraints skipped). */
export function columnDefs (sql: string): Map<string, string> {
  const out = new Map<string, string>()
  const open = sql.indexOf('(')
  if (open < 0) return out
  const parts: string[] = []
  let depth = 0
  let cur = ''
  for (let i = open + 1; i < sql.length; i++) {
    const ch = sql[i]!
    if (ch === "'" || ch === '"' || ch === '`' || ch === '[') {
      const close = ch === '[' ? ']' : ch
      let j = i + 1
      while (j < sql.length && !(sql[j] === close && sql[j + 1] !== close)) j += sql[j] === close ? 2 : 1
      cur += sql.slice(i, j + 1)
      i = j
      continue
    }
    if (ch === '(') depth++
    if (ch === ')') { if (depth === 0) { parts.push(cur); break } depth-- }
    if (ch === ',' && depth === 0) { parts.push(cur); cur = ''; continue }
    cur += ch
  }
  for (const raw of parts) {
    const p = raw.trim()
    if (/^(CONSTRAINT|PRIMARY|UNIQUE|CHECK|FOREIGN)\b/i.test(p)) continue
    const m = /^("((?:[^"]|"")*)"|`([^`]*)`|\[([^\]]*)\]|([^\s]+))/.exec(p)
    if (m == null) continue
    const name = (m[2]?.replaceAll('""', '"') ?? m[3] ?? m[4] ?? m[5] ?? '').toLowerCase()
    out.set(name, p)
  }
  return out
}

/** What a CREATE TABLE fixes beyond its plain columns, as comparable strings. */
interface Traits { generated: string; checks: string; collations: string; options: string }

const TRAIT_NAMES: Record<keyof Traits, string> = { generated: 'generated columns', checks: 'CHECK constraints', collations: 'collations', options: 'table options (STRICT, WITHOUT ROWID)' }

function tableTraits (db: Db, table: string, sql: string): Traits {
  const cols = db.prepare('SELECT name, hidden FROM pragma_table_xinfo(?)').all(table) as { name: string; hidden: number }[]
  const list = db.prepare('SELECT strict, wr FROM pragma_table_list WHERE name = ? AND schema = \'main\'').get(table) as { strict: number; wr: number } | undefined
  const text = sql.replace(/'(?:[^']|'')*'/g, "''")
  const checks: string[] = []
  const re = /\bCHECK\s*\(/gi
  let m: RegExpExecArray | null
  while ((m = re.exec(text)) != null) {
    let depth = 1
    let i = m.index + m[0].length
    while (i < text.length && depth > 0) { if (text[i] === '(') depth++; else if (text[i] === ')') depth--; i++ }
    checks.push(norm(text.slice(m.index + m[0].length, i - 1)))
  }
  const collations = [...text.matchAll(/\bCOLLATE\s+("?)(\w+)\1/gi)].map(c => c[2]!.toLowerCase())
  return {
    generated: cols.filter(c => c.hidden === 2 || c.hidden === 3).map(c => `${c.name.toLowerCase()}:${c.hidden}`).sort().join(','),
    checks: checks.sort().join('|'),
    collations: collations.sort().join(','),
    options: `strict=${list?.strict ?? 0},wr=${list?.wr ?? 0}`
  }
}

/** The schema change to make, computed before anything is written. */
export interface SchemaPlan {
  /** New tables: their CREATE TABLE statement. */
  createTables: { name: string; sql: string }[]
  /** Existing plain tables matching the schema: become CRRs, rows backfilled. */
  importTables: string[]
  addColumns: { table: string; column: ColumnMeta; ddl: string }[]
  dropIndexes: string[]
  createIndexes: { name: string; sql: string }[]
}

const INTERNAL = /^(sqlite_|__patina_)|__crsql_/i

function norm (s: string): string {
  return s.replace(/\s+/g, ' ').replace(/\s*([(),])\s*/g, '$1').trim().toLowerCase()
}

function stmtError (msg: string, statement: string, extra: { table?: string; rule?: string } = {}): SchemaChangeError {
  return new SchemaChangeError(`${msg} (statement: ${statement.length > 200 ? statement.slice(0, 200) + '…' : statement})`, { statement, ...extra })
}

function checkStatement (s: string): void {
  const head = s.replace(/\s+/g, ' ').trim().toUpperCase()
  if (/^CREATE (TEMP |TEMPORARY )/.test(head)) throw stmtError('temporary tables are not allowed in the schema', s, { rule: 'temporary' })
  if (/^CREATE TABLE /.test(head)) {
    if (/^CREATE TABLE (IF NOT EXISTS )?("[^"]*"|`[^`]*`|\[[^\]]*\]|[^\s(]+) AS /.test(head)) throw stmtError('CREATE TABLE … AS SELECT is not allowed in the schema', s, { rule: 'create-as-select' })
    return
  }
  if (/^CREATE (UNIQUE )?INDEX /.test(head)) return
  if (/^DROP INDEX /.test(head)) {
    if (!/^DROP INDEX IF EXISTS /.test(head)) throw stmtError('DROP INDEX needs IF EXISTS in a schema file', s, { rule: 'drop-index' })
    return
  }
  if (/^DROP TABLE /.test(head)) throw stmtError('dropping a table is a destructive change and is refused', s, { rule: 'drop-table' })
  if (/^ALTER TABLE /.test(head)) throw stmtError('ALTER TABLE is not accepted in schema files: edit the CREATE TABLE statement instead (only new columns are supported)', s, { rule: 'alter' })
  throw stmtError('only CREATE TABLE, CREATE INDEX and DROP INDEX IF EXISTS are allowed in the schema', s, { rule: 'unsupported-statement' })
}

function sameColumn (a: ColumnMeta, b: ColumnMeta): boolean {
  return a.type.toUpperCase() === b.type.toUpperCase() && a.notNull === b.notNull && a.defaultValue === b.defaultValue && a.pk === b.pk
}

/**
 * Parses the full schema text in a scratch database and compares it with `main`. Throws
 * `SchemaChangeError` for anything destructive, unsupported or breaking a CRR rule.
 */
export function planSchema (main: Db, sql: string | readonly string[], isCrr: (table: string) => boolean): SchemaPlan {
  const statements = (typeof sql === 'string' ? [sql] : sql).flatMap(splitStatements)
  const scratch = new Database(':memory:')
  try {
    const source = new Map<string, string>()
    const indexSource = new Map<string, string>()
    for (const s of statements) {
      checkStatement(s)
      try { scratch.exec(s) } catch (err) { throw stmtError(`invalid statement: ${(err as Error).message}`, s, { rule: 'syntax' }) }
      const m = /^\s*CREATE\s+(?:UNIQUE\s+)?(TABLE|INDEX)\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[^\s(]+)/i.exec(s)
      if (m != null) (m[1]!.toUpperCase() === 'TABLE' ? source : indexSource).set(m[2]!.replace(/^["`[]|["`\]]$/g, '').toLowerCase(), s)
    }
    const plan: SchemaPlan = { createTables: [], importTables: [], addColumns: [], dropIndexes: [], createIndexes: [] }
    const tables = scratch.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all() as { name: string; sql: string }[]
    const other = scratch.prepare("SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index')").all() as { type: string; name: string }[]
    if (other.length > 0) throw new SchemaChangeError(`${other[0]!.type} "${other[0]!.name}" is not allowed in the schema`, { rule: 'unsupported-statement' })
    for (const t of tables) {
      const stmt = source.get(t.name.toLowerCase()) ?? t.sql
      if (INTERNAL.test(t.name)) throw stmtError(`table name "${t.name}" is reserved`, stmt, { table: t.name, rule: 'reserved-name' })
      const v = crrViolation(scratch, t.name)
      // a UNIQUE index breaks the rule in its own statement, not in the table's
      if (v != null) throw stmtError(v.message, (v.index != null ? indexSource.get(v.index.toLowerCase()) : undefined) ?? stmt, { table: t.name, rule: v.rule })
      const desired = tableColumns(scratch, t.name)
      const existing = main.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = ? COLLATE NOCASE").get(t.name) as { name: string } | undefined
      if (existing == null) { plan.createTables.push({ name: t.name, sql: t.sql }); continue }
      const current = tableColumns(main, existing.name)
      for (const c of current) {
        const d = desired.find(x => x.name.toLowerCase() === c.name.toLowerCase())
        if (d == null) throw stmtError(`dropping column "${c.name}" of table "${t.name}" is a destructive change and is refused`, stmt, { table: t.name, rule: 'drop-column' })
        if (!sameColumn(c, d)) throw stmtError(`changing column "${c.name}" of table "${t.name}" (type, NOT NULL, DEFAULT or primary key) is not supported`, stmt, { table: t.name, rule: 'change-column' })
      }
      const added = desired.filter(d => !current.some(c => c.name.toLowerCase() === d.name.toLowerCase()))
      const defs = columnDefs(t.sql)
      if (!isCrr(existing.name)) {
        if (added.length > 0) throw stmtError(`existing table "${t.name}" does not match the schema (missing ${added.map(a => a.name).join(', ')})`, stmt, { table: t.name, rule: 'import-mismatch' })
        plan.importTables.push(existing.name)
      }
      for (const a of added) {
        if (a.pk > 0) throw stmtError(`adding primary-key column "${a.name}" to table "${t.name}" is not supported`, stmt, { table: t.name, rule: 'add-pk-column' })
        if (a.defaultValue != null && !LITERAL.test(a.defaultValue.trim())) {
          throw stmtError(`column "${a.name}" added to table "${t.name}" has DEFAULT ${a.defaultValue}; SQLite can add a column only with a constant literal default`, stmt, { table: t.name, rule: 'add-column-default' })
        }
        // the column's own text keeps its COLLATE / CHECK; rebuilt from pragma data otherwise
        const ddl = defs.get(a.name.toLowerCase()) ?? `${q(a.name)}${a.type !== '' ? ' ' + a.type : ''}${a.notNull ? ' NOT NULL' : ''}${a.defaultValue != null ? ' DEFAULT ' + a.defaultValue : ''}`
        plan.addColumns.push({ table: existing.name, column: a, ddl })
      }
      // everything else the CREATE TABLE text says (generated columns, CHECK, COLLATE, STRICT,
      // WITHOUT ROWID) must already match: SQLite cannot ALTER it, and silently keeping the old
      // definition would let the schema files and the database drift apart
      let wantSql = t.sql
      for (const a of added) { const d = defs.get(a.name.toLowerCase()); if (d != null) wantSql = wantSql.replace(d, '') }
      const want = tableTraits(scratch, t.name, wantSql)
      const have = tableTraits(main, existing.name, (main.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?").get(existing.name) as { sql: string }).sql)
      for (const k of Object.keys(want) as (keyof Traits)[]) {
        if (want[k] !== have[k]) throw stmtError(`changing the ${TRAIT_NAMES[k]} of table "${t.name}" is not supported (only new columns, with a constant DEFAULT or nullable, can be added)`, stmt, { table: t.name, rule: k === 'generated' ? 'add-generated-column' : 'change-table' })
      }
    }
    // indexes of the tables the schema defines; indexes of other tables are left alone
    const wanted = scratch.prepare("SELECT name, tbl_name AS tbl, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL").all() as { name: string; tbl: string; sql: string }[]
    for (const t of tables) {
      const have = main.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name = ? COLLATE NOCASE").all(t.name) as { name: string; sql: string }[]
      const want = wanted.filter(w => w.tbl.toLowerCase() === t.name.toLowerCase())
      for (const h of have) {
        const w = want.find(x => x.name.toLowerCase() === h.name.toLowerCase())
        if (w == null || norm(w.sql) !== norm(h.sql)) plan.dropIndexes.push(h.name)
      }
      for (const w of want) {
        const h = have.find(x => x.name.toLowerCase() === w.name.toLowerCase())
        if (h == null || norm(w.sql) !== norm(h.sql)) plan.createIndexes.push({ name: w.name, sql: w.sql })
      }
    }
    return plan
  } finally {
    scratch.close()
  }
}

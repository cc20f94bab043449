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
    for (const s of statements) {
      checkStatement(s)
      try { scratch.exec(s) } catch (err) { throw stmtError(`invalid statement: ${(err as Error).message}`, s, { rule: 'syntax' }) }
      const m = /^\s*CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?("(?:[^"]|"")*"|`[^`]*`|\[[^\]]*\]|[^\s(]+)/i.exec(s)
      if (m != null) source.set(m[1]!.replace(/^["`[]|["`\]]$/g, '').toLowerCase(), s)
    }
    const plan: SchemaPlan = { createTables: [], importTables: [], addColumns: [], dropIndexes: [], createIndexes: [] }
    const tables = scratch.prepare("SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid").all() as { name: string; sql: string }[]
    const other = scratch.prepare("SELECT type, name FROM sqlite_master WHERE type NOT IN ('table', 'index')").all() as { type: string; name: string }[]
    if (other.length > 0) throw new SchemaChangeError(`${other[0]!.type} "${other[0]!.name}" is not allowed in the schema`, { rule: 'unsupported-statement' })
    for (const t of tables) {
      const stmt = source.get(t.name.toLowerCase()) ?? t.sql
      if (INTERNAL.test(t.name)) throw stmtError(`table name "${t.name}" is reserved`, stmt, { table: t.name, rule: 'reserved-name' })
      const v = crrViolation(scratch, t.name)
      if (v != null) throw stmtError(v.message, stmt, { table: t.name, rule: v.rule })
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
      if (!isCrr(existing.name)) {
        if (added.length > 0) throw stmtError(`existing table "${t.name}" does not match the schema (missing ${added.map(a => a.name).join(', ')})`, stmt, { table: t.name, rule: 'import-mismatch' })
        plan.importTables.push(existing.name)
      }
      for (const a of added) {
        if (a.pk > 0) throw stmtError(`adding primary-key column "${a.name}" to table "${t.name}" is not supported`, stmt, { table: t.name, rule: 'add-pk-column' })
        const ddl = `${q(a.name)}${a.type !== '' ? ' ' + a.type : ''}${a.notNull ? ' NOT NULL' : ''}${a.defaultValue != null ? ' DEFAULT ' + a.defaultValue : ''}`
        plan.addColumns.push({ table: existing.name, column: a, ddl })
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

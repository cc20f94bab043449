import { addClockColumnSql, clockTableSql, changesViewSql, triggerNames, triggersSql } from './crr-sql.ts'
import { SchemaChangeError } from './errors.ts'
import type { LocalWrites } from './local-writes.ts'
import { tableRuntime } from './runtime.ts'
import { planSchema } from './schema-plan.ts'
import type { StoreState } from './store-state.ts'
import { crrTable, tableColumns, q } from './table-info.ts'
import type { SchemaChange, SchemaInfo, SqlValue } from './types.ts'

/** Schema changes and schema inspection of a store. */
export interface SchemaChanges {
  /** The store's `applySchema()`: creates/imports CRR tables, adds columns, changes indexes. */
  applySchema(sql: string | readonly string[]): SchemaChange
  /** The store's `schema()`: user tables and indexes. */
  schema(): SchemaInfo
}

/** Creates the schema part of a store and (re)builds its `crsql_changes` view. */
export function schemaChanges (state: StoreState, local: LocalWrites): SchemaChanges {
  const { db, tables, capture, alive, loadTables } = state
  const { runLocal } = local

  const setupCrr = (name: string, backfill: boolean): void => {
    const meta = crrTable(db, name)
    db.exec(clockTableSql(meta))
    const old = db.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND substr(name, 1, length(?)) = ?").all(name, name + '__crsql_', name + '__crsql_') as { name: string }[]
    for (const t of [...triggerNames(name), ...old.map(o => o.name)]) db.exec(`DROP TRIGGER IF EXISTS ${q(t)}`)
    for (const sql of triggersSql(meta)) db.exec(sql)
    if (!backfill) return
    const rt = tableRuntime(db, meta)
    const pkSel = db.prepare(`SELECT ${meta.pks.map(p => q(p.name)).join(', ')} FROM ${q(name)}`).raw(true).safeIntegers(true)
    const n = meta.cols.length
    for (const pk of pkSel.all() as SqlValue[][]) {
      capture.allocate(n + 1)
      capture.record(name, pk, 0)
      const base = capture.pending!.seq - n - 1
      const dbv = capture.pending!.dbv
      const cells: (number | null)[] = []
      for (let i = 0; i < n; i++) cells.push(1, 0, dbv, base + 1 + i)
      rt.putClock.run(...pk, 1, n === 0 ? 0 : null, n === 0 ? dbv : null, n === 0 ? base : null, ...cells)
    }
  }

  const rebuildView = (): void => {
    db.exec('DROP VIEW IF EXISTS crsql_changes')
    db.exec(changesViewSql([...tables.values()].map(t => t.meta)))
  }
  rebuildView()

  // A file written by an older version keeps the triggers that version made; rebuild those that
  // differ from what this version makes, so fixes to change capture reach existing databases.
  // (SQLite keeps a trigger's text without its IF NOT EXISTS.)
  const staleTriggers = [...tables.values()].map(t => t.meta).filter(meta => {
    const want = triggersSql(meta).map(sql => sql.replace(/^CREATE TRIGGER IF NOT EXISTS /, 'CREATE TRIGGER ')).sort()
    const have = (db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ? AND substr(name, 1, length(?)) = ?").pluck().all(meta.name, meta.name + '__crsql_', meta.name + '__crsql_') as string[]).sort()
    return want.length !== have.length || want.some((w, i) => w !== have[i])
  })
  if (staleTriggers.length > 0) db.transaction(() => { for (const meta of staleTriggers) setupCrr(meta.name, false) })()

  function applySchema (sql: string | readonly string[]): SchemaChange {
    alive()
    const plan = planSchema(db, sql, name => tables.has(name))
    const change: SchemaChange = {
      createdTables: plan.createTables.map(t => t.name),
      addedColumns: plan.addColumns.map(a => ({ table: a.table, column: a.column.name })),
      createdIndexes: plan.createIndexes.map(i => i.name),
      droppedIndexes: plan.dropIndexes,
      unchanged: false
    }
    if (plan.createTables.length + plan.importTables.length + plan.addColumns.length + plan.createIndexes.length + plan.dropIndexes.length === 0) {
      return { ...change, unchanged: true }
    }
    const wrap = (what: string, fn: () => void): void => {
      try { fn() } catch (err) {
        if ((err as Error).name === 'SchemaChangeError') throw err
        throw new SchemaChangeError(`${what}: ${(err as Error).message}`, { cause: err, statement: what })
      }
    }
    try {
      runLocal(() => {
        for (const i of plan.dropIndexes) wrap(`DROP INDEX ${i}`, () => db.exec(`DROP INDEX IF EXISTS ${q(i)}`))
        for (const t of plan.createTables) wrap(t.sql, () => { db.exec(t.sql); setupCrr(t.name, false) })
        for (const t of plan.importTables) wrap(`import of table ${t}`, () => setupCrr(t, true))
        const altered = new Set<string>()
        for (const a of plan.addColumns) {
          const ddl = `ALTER TABLE ${q(a.table)} ADD COLUMN ${a.ddl}`
          wrap(ddl, () => {
            db.exec(ddl)
            const rt = tables.get(a.table)
            if (rt != null) for (const s of addClockColumnSql(rt.meta, a.column.name)) db.exec(s)
          })
          altered.add(a.table)
        }
        for (const t of altered) wrap(`triggers of ${t}`, () => setupCrr(t, false))
        for (const i of plan.createIndexes) wrap(i.sql, () => db.exec(i.sql))
        loadTables()
        rebuildView()
        local.clearStatements()
      })
    } catch (err) {
      loadTables()
      throw err
    }
    return change
  }

  function schema (): SchemaInfo {
    alive()
    const rows = db.prepare("SELECT type, name, tbl_name AS tbl, sql FROM sqlite_master WHERE type IN ('table', 'index') AND sql IS NOT NULL AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE '\\_\\_patina\\_%' ESCAPE '\\' AND name NOT LIKE '%\\_\\_crsql\\_%' ESCAPE '\\' ORDER BY rowid").all() as { type: string; name: string; tbl: string; sql: string }[]
    const userTables = new Set(rows.filter(r => r.type === 'table').map(r => r.name))
    return {
      tables: rows.filter(r => r.type === 'table').map(r => ({
        name: r.name,
        sql: r.sql,
        columns: tableColumns(db, r.name).map(c => ({ name: c.name, type: c.type, notNull: c.notNull, pk: c.pk, defaultValue: c.defaultValue }))
      })),
      indexes: rows.filter(r => r.type === 'index' && userTables.has(r.tbl)).map(r => ({ name: r.name, table: r.tbl, sql: r.sql }))
    }
  }

  return { applySchema, schema }
}

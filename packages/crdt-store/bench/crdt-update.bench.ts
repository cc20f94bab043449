// Update one column of 100k rows in one transaction: a CRR table vs a plain table, same run.
// Main figure: 100k single-row UPDATE statements (how API clients write). Also reported: one
// UPDATE statement touching all rows, whose plain baseline has no per-row statement cost at all.
import Database from 'better-sqlite3'
import { openStore } from '../src/index.ts'
import { report, triggerFloor } from './bench-util.ts'

const N = 100_000
const RUNS = 5
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
const perRow = 'UPDATE t SET b = ? WHERE id = ?'
const bulk = 'UPDATE t SET b = b + 1'

function plainRun (): [number, number] {
  const db = new Database(':memory:')
  db.pragma('journal_mode = WAL')
  db.exec(schema)
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)')
  db.transaction(() => { for (let i = 0; i < N; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
  const up = db.prepare(perRow)
  let t0 = performance.now()
  db.transaction(() => { for (let i = 0; i < N; i++) up.run(BigInt(i * 5), BigInt(i)) })()
  const rowMs = performance.now() - t0
  const st = db.prepare(bulk)
  t0 = performance.now()
  db.transaction(() => st.run())()
  const bulkMs = performance.now() - t0
  db.close()
  return [rowMs, bulkMs]
}

function crrRun (): [number, number] {
  const s = openStore({ path: ':memory:' })
  s.applySchema(schema)
  s.transaction(tx => { for (let i = 0; i < N; i++) tx.run('INSERT INTO t VALUES (?, ?, ?, ?)', [i, 'text' + i, i * 3, i / 7]) })
  let t0 = performance.now()
  s.transaction(tx => { for (let i = 0; i < N; i++) tx.run(perRow, [i * 5, i]) })
  const rowMs = performance.now() - t0
  t0 = performance.now()
  const r = s.transaction([{ sql: bulk }])
  const bulkMs = performance.now() - t0
  if (r.results[0]!.rowsAffected !== N) throw new Error('update missed rows')
  s.close()
  return [rowMs, bulkMs]
}

const plain = [Infinity, Infinity]
const crr = [Infinity, Infinity]
for (let i = 0; i < RUNS; i++) {
  const p = plainRun()
  const c = crrRun()
  for (let k = 0; k < 2; k++) { plain[k] = Math.min(plain[k]!, p[k]!); crr[k] = Math.min(crr[k]!, c[k]!) }
}
report('crdt-update', 'crr_update_100k_row_statements_ms', crr[0]!, 'ms', plain[0]!)
report('crdt-update', 'crr_row_updates_per_s', N / (crr[0]! / 1000), 'rows/s')
report('crdt-update', 'crr_update_one_statement_100k_rows_ms', crr[1]!, 'ms', plain[1]!)
const [floorPlain, floor] = triggerFloor('update', RUNS)
report('crdt-update', 'trigger_floor_100k_row_statements_ms', floor, 'ms', floorPlain)

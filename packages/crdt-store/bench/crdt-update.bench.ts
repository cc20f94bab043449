// Update one column of 100k rows in one transaction: a CRR table vs a plain table, same run.
import Database from 'better-sqlite3'
import { openStore } from '../src/index.ts'
import { report } from './bench-util.ts'

const N = 100_000
const RUNS = 3
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
const update = 'UPDATE t SET b = b + 1'

function plainRun (): number {
  const db = new Database(':memory:')
  db.pragma('journal_mode = WAL')
  db.exec(schema)
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)')
  db.transaction(() => { for (let i = 0; i < N; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
  const st = db.prepare(update)
  const t0 = performance.now()
  db.transaction(() => st.run())()
  const ms = performance.now() - t0
  db.close()
  return ms
}

function crrRun (): number {
  const s = openStore({ path: ':memory:' })
  s.applySchema(schema)
  s.transaction(tx => { for (let i = 0; i < N; i++) tx.run('INSERT INTO t VALUES (?, ?, ?, ?)', [i, 'text' + i, i * 3, i / 7]) })
  const t0 = performance.now()
  const r = s.transaction([{ sql: update }])
  const ms = performance.now() - t0
  if (r.results[0]!.rowsAffected !== N) throw new Error('update missed rows')
  s.close()
  return ms
}

let plain = Infinity
let crr = Infinity
for (let i = 0; i < RUNS; i++) {
  plain = Math.min(plain, plainRun())
  crr = Math.min(crr, crrRun())
}
report('crdt-update', 'crr_update_100k_rows_ms', crr, 'ms', plain)
report('crdt-update', 'crr_updates_per_s', N / (crr / 1000), 'rows/s')

// 100k rows × 3 non-PK columns in one transaction: a CRR table vs a plain table, same run.
import Database from 'better-sqlite3'
import { openStore } from '../src/index.ts'
import { report } from './bench-util.ts'

const N = 100_000
const RUNS = 5
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
const sql = 'INSERT INTO t VALUES (?, ?, ?, ?)'

function plainRun (): number {
  const db = new Database(':memory:')
  db.pragma('journal_mode = WAL')
  db.exec(schema)
  const ins = db.prepare(sql)
  const t0 = performance.now()
  db.transaction(() => { for (let i = 0; i < N; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
  const ms = performance.now() - t0
  db.close()
  return ms
}

function crrRun (): { ms: number; csMs: number; chunks: number } {
  const s = openStore({ path: ':memory:' })
  s.applySchema(schema)
  const t0 = performance.now()
  const r = s.transaction(tx => { for (let i = 0; i < N; i++) tx.run(sql, [i, 'text' + i, i * 3, i / 7]) })
  const ms = performance.now() - t0
  const t1 = performance.now()
  const chunks = r.changesets.length
  const csMs = performance.now() - t1
  s.close()
  return { ms, csMs, chunks }
}

let plain = Infinity
let crr = Infinity
let cs = Infinity
let chunks = 0
for (let i = 0; i < RUNS; i++) {
  plain = Math.min(plain, plainRun())
  const r = crrRun()
  crr = Math.min(crr, r.ms)
  cs = Math.min(cs, r.csMs)
  chunks = r.chunks
}
report('crdt-insert', 'crr_insert_100k_rows_ms', crr, 'ms', plain)
report('crdt-insert', 'crr_rows_per_s', N / (crr / 1000), 'rows/s')
report('crdt-insert', 'changesets_build_ms', cs, 'ms')
report('crdt-insert', 'changesets_count', chunks, 'chunks')

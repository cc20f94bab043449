// 100k rows × 3 non-PK columns in one transaction: a CRR table vs a plain table, same run.
// Two shapes: one INSERT … SELECT statement (the SQLite + trigger cost alone, the shape cr-sqlite's
// own figures use), and 100k single-row INSERT statements through the store's API.
import Database from 'better-sqlite3'
import { openStore } from '../src/index.ts'
import { report, triggerFloor } from './bench-util.ts'

const N = 100_000
const RUNS = 5
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
const bulk = `WITH RECURSIVE n(x) AS (SELECT 0 UNION ALL SELECT x + 1 FROM n WHERE x < ${N - 1}) INSERT INTO t SELECT x, 'text' || x, x * 3, x / 7.0 FROM n`
const one = 'INSERT INTO t VALUES (?, ?, ?, ?)'

function plainRun (): [number, number] {
  const times: number[] = []
  for (const shape of ['bulk', 'rows']) {
    const db = new Database(':memory:')
    db.pragma('journal_mode = WAL')
    db.exec(schema)
    const t0 = performance.now()
    if (shape === 'bulk') db.transaction(() => db.prepare(bulk).run())()
    else {
      const ins = db.prepare(one)
      db.transaction(() => { for (let i = 0; i < N; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
    }
    times.push(performance.now() - t0)
    db.close()
  }
  return [times[0]!, times[1]!]
}

function crrRun (): [number, number, number, number] {
  const times: number[] = []
  let csMs = 0
  let chunks = 0
  for (const shape of ['bulk', 'rows']) {
    const s = openStore({ path: ':memory:' })
    s.applySchema(schema)
    const t0 = performance.now()
    const r = shape === 'bulk'
      ? s.transaction([{ sql: bulk }])
      : s.transaction(tx => { for (let i = 0; i < N; i++) tx.run(one, [i, 'text' + i, i * 3, i / 7]) })
    times.push(performance.now() - t0)
    if (shape === 'rows') {
      const t1 = performance.now()
      chunks = r.changesets.length
      csMs = performance.now() - t1
    }
    s.close()
  }
  return [times[0]!, times[1]!, csMs, chunks]
}

const plain = [Infinity, Infinity]
const crr = [Infinity, Infinity, Infinity]
let chunks = 0
for (let i = 0; i < RUNS; i++) {
  const p = plainRun()
  const c = crrRun()
  for (let k = 0; k < 2; k++) plain[k] = Math.min(plain[k]!, p[k]!)
  for (let k = 0; k < 3; k++) crr[k] = Math.min(crr[k]!, c[k]!)
  chunks = c[3]
}
report('crdt-insert', 'crr_insert_select_100k_rows_ms', crr[0]!, 'ms', plain[0]!)
report('crdt-insert', 'crr_insert_100k_row_statements_ms', crr[1]!, 'ms', plain[1]!)
report('crdt-insert', 'crr_rows_per_s', N / (crr[1]! / 1000), 'rows/s')
report('crdt-insert', 'changesets_build_300k_changes_ms', crr[2]!, 'ms')
report('crdt-insert', 'changesets_count', chunks, 'chunks')
const [floorPlain, floor] = triggerFloor('insert', RUNS)
report('crdt-insert', 'trigger_floor_100k_row_statements_ms', floor, 'ms', floorPlain)

// Apply 300k column changes (100k rows × 3 columns) from another actor; changes/s, and the ratio
// against plain inserts of the same cells into a plain table.
import Database from 'better-sqlite3'
import { openStore } from '../src/index.ts'
import type { Changeset } from '../src/index.ts'
import { report } from './bench-util.ts'

const N = 100_000
const RUNS = 2
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'

const src = openStore({ path: ':memory:' })
src.applySchema(schema)
// many versions of 1000 rows each, as a busy peer would produce them
const changesets: Changeset[] = []
for (let v = 0; v < N / 1000; v++) {
  const r = src.transaction(tx => { for (let i = v * 1000; i < (v + 1) * 1000; i++) tx.run('INSERT INTO t VALUES (?, ?, ?, ?)', [i, 'text' + i, i * 3, i / 7]) })
  changesets.push(...r.changesets)
}
const cells = changesets.reduce((n, c) => n + c.changes.length, 0)

function plainRun (): number {
  const db = new Database(':memory:')
  db.pragma('journal_mode = WAL')
  db.exec(schema)
  const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)')
  const t0 = performance.now()
  db.transaction(() => { for (let i = 0; i < N; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
  const ms = performance.now() - t0
  db.close()
  return ms
}

function mergeRun (): number {
  const s = openStore({ path: ':memory:' })
  s.applySchema(schema)
  const t0 = performance.now()
  for (const cs of changesets) s.apply(cs)
  const ms = performance.now() - t0
  const n = [...s.read('SELECT count(*) FROM t').rows][0]![0]
  if (n !== N) throw new Error(`merged ${String(n)} rows`)
  s.close()
  return ms
}

let plain = Infinity
let merge = Infinity
for (let i = 0; i < RUNS; i++) {
  plain = Math.min(plain, plainRun())
  merge = Math.min(merge, mergeRun())
}
report('crdt-merge', 'merge_changes_per_s', cells / (merge / 1000), 'changes/s')
report('crdt-merge', 'merge_300k_changes_ms', merge, 'ms', plain)
src.close()

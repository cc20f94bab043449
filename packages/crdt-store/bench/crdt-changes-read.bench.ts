// Read all changes since a version: the store's version-indexed path and the crsql_changes view.
import { openStore } from '../src/index.ts'
import { report } from './bench-util.ts'

const N = 100_000
const s = openStore({ path: ':memory:' })
s.applySchema('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)')
for (let v = 0; v < 100; v++) {
  s.transaction(tx => { for (let i = v * (N / 100); i < (v + 1) * (N / 100); i++) tx.run('INSERT INTO t VALUES (?, ?, ?, ?)', [i, 'text' + i, i * 3, i / 7]) })
}
const since = 50
let best = Infinity
let rows = 0
for (let r = 0; r < 3; r++) {
  const t0 = performance.now()
  rows = s.changes(s.siteId, since + 1, Number.MAX_SAFE_INTEGER).length
  best = Math.min(best, performance.now() - t0)
}
report('crdt-changes-read', 'changes_since_version_rows_per_s', rows / (best / 1000), 'rows/s')
report('crdt-changes-read', 'changes_since_version_rows', rows, 'rows')
let view = Infinity
for (let r = 0; r < 3; r++) {
  const t0 = performance.now()
  let n = 0
  for (const _ of s.read('SELECT * FROM crsql_changes WHERE db_version > ?', [since]).rows) n++
  if (n !== rows) throw new Error(`view returned ${n}, changes() ${rows}`)
  view = Math.min(view, performance.now() - t0)
}
report('crdt-changes-read', 'view_since_version_rows_per_s', rows / (view / 1000), 'rows/s')
s.close()

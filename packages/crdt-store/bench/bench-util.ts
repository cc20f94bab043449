import Database from 'better-sqlite3'
/** Shared helpers of the crdt-store benchmarks. */

/** Prints one benchmark result line. */
export function report (bench: string, metric: string, value: number, unit: string, baseline?: number): void {
  const line: Record<string, unknown> = { bench, metric, value: round(value), unit }
  if (baseline != null) { line.baseline = round(baseline); line.ratio = round(value / baseline) }
  console.log(JSON.stringify(line))
}

function round (n: number): number { return Math.round(n * 1000) / 1000 }

/** Runs `fn` `runs` times and returns the best time in ms. */
export function best (runs: number, fn: () => void): number {
  let b = Infinity
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now()
    fn()
    b = Math.min(b, performance.now() - t0)
  }
  return b
}

/**
 * The floor of any trigger-maintained clock: 100k single-row statements on a plain table whose
 * AFTER trigger writes a constant clock row (no function call, no checks). Returns
 * `[plain ms, floor ms]`, best of `runs`. It shows what SQLite itself charges for the second B-tree
 * write a trigger makes, whatever the store does on top.
 */
export function triggerFloor (kind: 'insert' | 'update', runs: number, n = 100_000): [number, number] {
  const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, b INTEGER, c REAL)'
  const clock = 'CREATE TABLE k (id INTEGER PRIMARY KEY, cl INTEGER NOT NULL, ss INTEGER, st INTEGER, av INTEGER, as_ INTEGER, at INTEGER, bv INTEGER, bs INTEGER, bt INTEGER, cv INTEGER, cs INTEGER, ct INTEGER)'
  const trigger = kind === 'insert'
    ? 'CREATE TRIGGER t_i AFTER INSERT ON t BEGIN INSERT INTO k VALUES (NEW.id, 1, NULL, NULL, 1, 0, 16777217, 1, 0, 16777218, 1, 0, 16777219); END'
    : 'CREATE TRIGGER t_u AFTER UPDATE OF b ON t BEGIN UPDATE k SET bv = bv + 1, bs = 0, bt = 33554433 WHERE id = NEW.id; END'
  const once = (withTrigger: boolean): number => {
    const db = new Database(':memory:')
    db.pragma('journal_mode = WAL')
    db.exec(schema)
    db.exec(clock)
    const ins = db.prepare('INSERT INTO t VALUES (?, ?, ?, ?)')
    if (kind === 'update') {
      const insk = db.prepare('INSERT INTO k VALUES (?, 1, NULL, NULL, 1, 0, 16777217, 1, 0, 16777218, 1, 0, 16777219)')
      db.transaction(() => { for (let i = 0; i < n; i++) { ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7); insk.run(BigInt(i)) } })()
    }
    if (withTrigger) db.exec(trigger)
    const up = db.prepare('UPDATE t SET b = ? WHERE id = ?')
    const t0 = performance.now()
    if (kind === 'insert') db.transaction(() => { for (let i = 0; i < n; i++) ins.run(BigInt(i), 'text' + i, BigInt(i * 3), i / 7) })()
    else db.transaction(() => { for (let i = 0; i < n; i++) up.run(BigInt(i * 5), BigInt(i)) })()
    const ms = performance.now() - t0
    db.close()
    return ms
  }
  let plain = Infinity
  let floor = Infinity
  for (let i = 0; i < runs; i++) { plain = Math.min(plain, once(false)); floor = Math.min(floor, once(true)) }
  return [plain, floor]
}

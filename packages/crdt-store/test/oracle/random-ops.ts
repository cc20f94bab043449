/**
 * Random write workloads for property tests: small key spaces so replicas collide often, values of
 * every storage class, and statements that never fail (OR IGNORE / upserts) so any error thrown is
 * the store's fault.
 */
import fc from 'fast-check'
import { type Typed, NULL, blob, int, real, sqlLiteral, text } from './typed-value.ts'

/** Tables every random workload uses (all CRRs). */
export const RANDOM_SCHEMA: readonly string[] = [
  'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a, b, c)',
  'CREATE TABLE tags (k TEXT PRIMARY KEY NOT NULL)',
  'CREATE TABLE m (x INTEGER NOT NULL, y TEXT NOT NULL, v TEXT DEFAULT \'dv\', PRIMARY KEY (x, y))'
]
/** Names of {@link RANDOM_SCHEMA}'s tables. */
export const RANDOM_TABLES: readonly string[] = ['t', 'tags', 'm']

/** A small pool of values covering every storage class and the tricky orderings. */
export const valueArb: fc.Arbitrary<Typed> = fc.oneof(
  fc.constant(NULL),
  fc.integer({ min: -2, max: 3 }).map(int),
  fc.constantFrom(int(2n ** 62n), int(-(2n ** 63n)), int(9007199254740993n)),
  fc.constantFrom(real(0.5), real(1), real(-2.25), real(3)),
  fc.constantFrom(text(''), text('a'), text('b'), text('é'), text('\uE000'), text('\u{1F600}'), text('1')),
  fc.constantFrom(blob([]), blob([0]), blob([0xff]), blob([1, 2]))
)

const id = fc.integer({ min: 1, max: 5 })
const col = fc.constantFrom('a', 'b', 'c')
const tag = fc.constantFrom('x', 'y', 'z')
const mx = fc.integer({ min: 1, max: 2 })
const my = fc.constantFrom('p', 'q')
const v = valueArb.map(sqlLiteral)

/** Options for {@link opArb}. */
export interface OpOptions {
  /** Include primary-key updates (cr-sqlite upstream mishandles them; Patina takes the fork's fix). */
  pkChanges?: boolean
  /** Include `INSERT OR REPLACE` of possibly live rows (default true). */
  replace?: boolean
}

/** One SQL write statement over {@link RANDOM_SCHEMA}. */
export function opArb (options: OpOptions = {}): fc.Arbitrary<string> {
  const ops: Array<fc.Arbitrary<string>> = [
    fc.tuple(id, v, v, v).map(([k, a, b, c]) => `INSERT OR IGNORE INTO t (id, a, b, c) VALUES (${k}, ${a}, ${b}, ${c})`),
    fc.tuple(id, col, v).map(([k, c, x]) => `INSERT INTO t (id, ${c}) VALUES (${k}, ${x}) ON CONFLICT (id) DO UPDATE SET ${c} = excluded.${c}`),
    fc.tuple(id, col, v).map(([k, c, x]) => `UPDATE t SET ${c} = ${x} WHERE id = ${k}`),
    fc.tuple(id, v).map(([k, x]) => `UPDATE t SET b = ${x}, c = ${x} WHERE id >= ${k}`),
    id.map(k => `DELETE FROM t WHERE id = ${k}`),
    id.map(k => `DELETE FROM t WHERE id >= ${k}`),
    tag.map(k => `INSERT OR IGNORE INTO tags (k) VALUES ('${k}')`),
    tag.map(k => `DELETE FROM tags WHERE k = '${k}'`),
    fc.tuple(mx, my, v).map(([x, y, val]) => `INSERT OR IGNORE INTO m (x, y, v) VALUES (${x}, '${y}', ${val})`),
    fc.tuple(mx, my).map(([x, y]) => `INSERT OR IGNORE INTO m (x, y) VALUES (${x}, '${y}')`),
    fc.tuple(mx, v).map(([x, val]) => `UPDATE m SET v = ${val} WHERE x = ${x}`),
    fc.tuple(mx, my).map(([x, y]) => `DELETE FROM m WHERE x = ${x} AND y = '${y}'`)
  ]
  if (options.replace !== false) {
    ops.push(fc.tuple(id, v, v).map(([k, a, b]) => `INSERT OR REPLACE INTO t (id, a, b) VALUES (${k}, ${a}, ${b})`))
  }
  if (options.pkChanges === true) {
    ops.push(fc.tuple(id, id).map(([from, to]) => `UPDATE OR IGNORE t SET id = ${to} WHERE id = ${from}`))
    ops.push(fc.tuple(tag, tag).map(([from, to]) => `UPDATE OR IGNORE tags SET k = '${to}' WHERE k = '${from}'`))
    // several keys move in one statement (some may collide and be skipped)
    ops.push(fc.tuple(id, fc.integer({ min: -2, max: 2 })).map(([k, d]) => `UPDATE OR IGNORE t SET id = id + ${d} WHERE id >= ${k}`))
    ops.push(mx.map(x => `UPDATE OR IGNORE m SET x = ${3 - x} WHERE x = ${x}`))
    // a key moved onto a live row replaces it
    ops.push(fc.tuple(id, id).map(([from, to]) => `UPDATE OR REPLACE t SET id = ${to} WHERE id = ${from}`))
    ops.push(fc.tuple(tag, tag).map(([from, to]) => `UPDATE OR REPLACE tags SET k = '${to}' WHERE k = '${from}'`))
  }
  return fc.oneof(...ops)
}

/** A transaction: 1–3 statements. */
export function txArb (options: OpOptions = {}): fc.Arbitrary<string[]> {
  return fc.array(opArb(options), { minLength: 1, maxLength: 3 })
}

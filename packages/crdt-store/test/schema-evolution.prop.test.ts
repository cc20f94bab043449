/**
 * Schema evolution as a property: a store with data goes through random schema texts, each the
 * accepted schema plus one change that is either allowed (new table, new nullable or DEFAULT column,
 * new index) or not (CRR rule break, destructive or unsupported change, bad SQL — alone or next to an
 * allowed change). Allowed changes apply and are idempotent; refused ones throw a typed error and
 * change nothing. At the end a replica built from the final schema text syncs to the same state.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type CrdtStore, openStore } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { snapshot } from './oracle/store-snapshot.ts'

interface State { baseCols: string[]; extra: string[]; n: number }

type Step =
  | { ok: true; apply: (s: State) => State }
  | { ok: false; text: (s: State) => string[] }

const baseSql = (cols: readonly string[]): string => `CREATE TABLE base (${cols.join(', ')})`
const textOf = (s: State): string[] => [baseSql(s.baseCols), ...s.extra]

const allowed: fc.Arbitrary<Step> = fc.constantFrom<Step>(
  { ok: true, apply: s => ({ ...s, n: s.n + 1, extra: [...s.extra, `CREATE TABLE n${s.n} (id INTEGER PRIMARY KEY NOT NULL, v)`] }) },
  { ok: true, apply: s => ({ ...s, n: s.n + 1, baseCols: [...s.baseCols, `c${s.n} TEXT`] }) },
  { ok: true, apply: s => ({ ...s, n: s.n + 1, baseCols: [...s.baseCols, `c${s.n} INTEGER NOT NULL DEFAULT 5`] }) },
  { ok: true, apply: s => ({ ...s, n: s.n + 1, extra: [...s.extra, `CREATE INDEX i${s.n} ON base (a)`] }) }
)
const refused: fc.Arbitrary<Step> = fc.constantFrom<Step>(
  { ok: false, text: s => [...textOf(s), `CREATE TABLE bad${s.n} (id INTEGER PRIMARY KEY NOT NULL, u TEXT UNIQUE)`] },
  { ok: false, text: s => [...textOf(s), `CREATE TABLE bad${s.n} (id INTEGER PRIMARY KEY NOT NULL, r INTEGER REFERENCES base (id))`] },
  { ok: false, text: s => [...textOf(s), `CREATE TABLE bad${s.n} (id INTEGER PRIMARY KEY NOT NULL, q TEXT NOT NULL)`] },
  { ok: false, text: s => [...textOf(s), `CREATE TABLE bad${s.n} (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL)`] },
  { ok: false, text: s => [...textOf(s), `CREATE TABLE bad${s.n} (v TEXT)`] },
  { ok: false, text: s => [...textOf(s), `CREATE UNIQUE INDEX u${s.n} ON base (a)`] },
  { ok: false, text: s => [...textOf(s), 'DROP TABLE base'] },
  { ok: false, text: s => [...textOf(s), 'CREATE TABL oops (id)'] },
  // destructive / unsupported changes of base
  { ok: false, text: s => [baseSql(s.baseCols.filter(c => !c.startsWith('a '))), ...s.extra] },
  { ok: false, text: s => [baseSql(s.baseCols.map(c => (c.startsWith('a ') ? 'a INTEGER' : c))), ...s.extra] },
  { ok: false, text: s => [baseSql(['id INTEGER NOT NULL', ...s.baseCols.slice(1), 'PRIMARY KEY (id, a)']), ...s.extra] },
  { ok: false, text: s => [baseSql([...s.baseCols, `z${s.n} TEXT NOT NULL`]), ...s.extra] },
  // an allowed change next to a refused one: nothing of either may land
  { ok: false, text: s => [...textOf(s), `CREATE TABLE n${s.n} (id INTEGER PRIMARY KEY NOT NULL, v)`, `CREATE TABLE bad${s.n} (id INTEGER PRIMARY KEY NOT NULL, u TEXT UNIQUE)`] },
  { ok: false, text: s => [baseSql([...s.baseCols, `c${s.n} TEXT`]), ...s.extra, `CREATE TABLE bad${s.n} (v TEXT)`] }
)

const TYPED = new Set(['SchemaChangeError', 'CrrRuleError'])

function writeSome (s: CrdtStore, k: number): void {
  const stmts = [{ sql: 'INSERT OR REPLACE INTO base (id, a) VALUES (?, ?)', params: [k % 4, `a${k}`] }]
  for (const t of s.schema().tables) if (/^n\d+$/.test(t.name)) stmts.push({ sql: `INSERT OR REPLACE INTO ${t.name} (id, v) VALUES (?, ?)`, params: [k % 3, `v${k}`] })
  s.transaction(stmts)
}

describe('schema evolution', () => {
  test('allowed changes apply idempotently, refused ones change nothing, and replicas built from the final text converge', () => {
    fc.assert(fc.property(fc.array(fc.oneof(allowed, refused), { minLength: 1, maxLength: 10 }), steps => {
      let t = 1_700_000_000_000
      const s = openStore({ path: ':memory:', now: () => t++ })
      let state: State = { baseCols: ['id INTEGER PRIMARY KEY NOT NULL', 'a TEXT', 'b INTEGER DEFAULT 0'], extra: [], n: 0 }
      try {
        s.applySchema(textOf(state))
        writeSome(s, 0)
        steps.forEach((step, k) => {
          if (step.ok) {
            const next = step.apply(state)
            s.applySchema(textOf(next))
            state = next
            expect(s.applySchema(textOf(state)).unchanged, `step ${k}: re-applying the same text is not a no-op`).toBe(true)
          } else {
            const text = step.text(state)
            const before = { schema: s.schema(), snap: snapshot(s), status: s.syncStatus() }
            let threw: Error | undefined
            try { s.applySchema(text) } catch (err) { threw = err as Error }
            expect(threw, `step ${k}: accepted ${JSON.stringify(text)}`).toBeDefined()
            expect(TYPED.has(threw!.name), `step ${k}: untyped ${threw!.name}: ${threw!.message}`).toBe(true)
            expect({ schema: s.schema(), snap: snapshot(s), status: s.syncStatus() }, `step ${k}: refused change left traces`).toEqual(before)
          }
          writeSome(s, k + 1)
        })
        const twin = openStore({ path: ':memory:' })
        try {
          twin.applySchema(textOf(state))
          for (const cs of s.serve(twin.needs(s.summary()))) twin.apply(cs)
          expect(snapshot(twin)).toEqual(snapshot(s))
        } finally { twin.close() }
      } finally { s.close() }
    }), fcParams(50))
  }, PROP_TIMEOUT)
})

describe('schema evolution: changes that cannot be applied are never silently skipped', () => {
  test('adding a generated column to an existing table either adds it or is refused', () => {
    for (const kind of ['VIRTUAL', 'STORED']) {
      const s = openStore({ path: ':memory:' })
      try {
        s.applySchema(['CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)'])
        let refused = false
        try {
          s.applySchema([`CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, g INTEGER GENERATED ALWAYS AS (id * 2) ${kind})`])
        } catch (err) {
          expect((err as Error).name).toBe('SchemaChangeError')
          refused = true
        }
        if (!refused) {
          s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (3, 'x')" }])
          expect([...s.read('SELECT g FROM t').rows], `${kind}: accepted but the column is not there`).toEqual([[6]])
        }
      } finally { s.close() }
    }
  })
})

describe('schema evolution: constraint changes on existing tables', () => {
  const BASE = "CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE, n INTEGER CHECK (n > 0))"
  // Each change, and a write whose outcome tells whether the change is in force.
  const cases: Array<{ what: string; text: string; probe: (s: CrdtStore) => boolean }> = [
    {
      what: 'dropping COLLATE NOCASE',
      text: 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT, n INTEGER CHECK (n > 0))',
      probe: s => { s.transaction([{ sql: "INSERT INTO t (id, a) VALUES (1, 'A')" }]); return [...s.read("SELECT count(*) FROM t WHERE a = 'a'").rows][0]?.[0] === 0 }
    },
    {
      what: 'dropping a CHECK',
      text: 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT COLLATE NOCASE, n INTEGER)',
      probe: s => { try { s.transaction([{ sql: 'INSERT INTO t (id, n) VALUES (2, -1)' }]); return true } catch { return false } }
    },
    {
      what: 'making the table STRICT',
      text: `${BASE} STRICT`,
      probe: s => { try { s.transaction([{ sql: "INSERT INTO t (id, n) VALUES (3, 'abc')" }]); return false } catch { return true } }
    }
  ]
  for (const c of cases) {
    test(`${c.what} is applied or refused, never reported as unchanged and ignored`, () => {
      const s = openStore({ path: ':memory:' })
      try {
        s.applySchema([BASE])
        let refused = false
        try { s.applySchema([c.text]) } catch (err) {
          expect((err as Error).name).toBe('SchemaChangeError')
          refused = true
        }
        if (!refused) expect(c.probe(s), `${c.what}: accepted but not in force`).toBe(true)
      } finally { s.close() }
    })
  }
})

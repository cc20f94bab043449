/**
 * Commit notifications match what actually changed: after every local transaction and every
 * applied (not buffered) changeset, each row whose content changed is reported once with the right
 * kind (insert / update / delete) and packed key, and nothing is reported that did not happen.
 * Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { type CommitEvent, type CrdtStore, openStore, packPk } from '../src/index.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { canon, fromTypeof, hex } from './oracle/typed-value.ts'

const quoteId = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** `table|hex(pk)` → canonical row, for every user table. */
function rowsByKey (store: CrdtStore): Map<string, string> {
  const out = new Map<string, string>()
  for (const t of store.schema().tables) {
    const pks = t.columns.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk)
    const sel = [...pks, ...t.columns].flatMap(c => [`typeof(${quoteId(c.name)})`, quoteId(c.name)]).join(', ')
    const cur = store.read(`SELECT ${sel} FROM ${quoteId(t.name)}`)
    for (const r of cur.rows) {
      const vals = []
      for (let i = 0; i < r.length; i += 2) vals.push(fromTypeof(r[i], r[i + 1]))
      const pkVals = vals.slice(0, pks.length).map(v => (v.type === 'null' ? null : v.value))
      out.set(`${t.name}|${hex(packPk(pkVals))}`, vals.slice(pks.length).map(canon).join(','))
    }
  }
  return out
}

type Kind = 'insert' | 'update' | 'delete'

/** Checks one commit's events against the before/after contents. */
function checkEvents (before: Map<string, string>, after: Map<string, string>, events: readonly CommitEvent[], source: 'local' | 'remote', label: string): void {
  const reported = new Map<string, Kind>()
  for (const ev of events) {
    expect(ev.source, label).toBe(source)
    for (const c of ev.changes) {
      const key = `${c.table}|${hex(c.pk)}`
      expect(reported.has(key), `${label}: ${key} reported twice`).toBe(false)
      reported.set(key, c.kind)
      expect(hex(packPk(c.pkValues)), `${label}: pkValues of ${key} do not pack to pk`).toBe(hex(c.pk))
    }
  }
  const keys = new Set([...before.keys(), ...after.keys()])
  for (const key of keys) {
    const b = before.get(key)
    const a = after.get(key)
    const want: Kind | undefined = b === undefined && a !== undefined ? 'insert' : b !== undefined && a === undefined ? 'delete' : a !== b ? 'update' : undefined
    const got = reported.get(key)
    if (want !== undefined) expect(got, `${label}: ${key} changed (${String(b)} -> ${String(a)})`).toBe(want)
    else if (got !== undefined) {
      // A row that ends as it started may be reported as an update (e.g. rewritten with the same
      // values), never as an insert or delete of something that did not appear or vanish.
      expect(got, `${label}: ${key} unchanged (${String(b)}) but reported`).toBe('update')
    }
  }
  for (const key of reported.keys()) expect(keys.has(key), `${label}: ${key} reported but never existed`).toBe(true)
}

describe('commit events', () => {
  test('local and remote commits report exactly the rows that changed', () => {
    fc.assert(fc.property(fc.array(fc.tuple(fc.nat(), txArb({ pkChanges: true })), { minLength: 1, maxLength: 12 }), fc.gen(), (steps, g) => {
      let t = 1_700_000_000_000
      const stores = [0, 1].map(() => {
        const s = openStore({ path: ':memory:', chunkBytes: 128, now: () => t++ })
        s.applySchema(RANDOM_SCHEMA)
        return s
      })
      const events = stores.map(() => [] as CommitEvent[])
      stores.forEach((s, i) => s.onCommit(ev => { events[i]!.push(ev) }))
      try {
        for (const [k, [who, tx]] of steps.entries()) {
          const i = who % 2
          const s = stores[i]!
          const other = stores[1 - i]!
          const before = rowsByKey(s)
          events[i]!.length = 0
          const res = s.transaction(tx.map(sql => ({ sql })))
          checkEvents(before, rowsByKey(s), events[i]!, 'local', `step ${k} local`)
          if (res.version === null) expect(events[i]).toEqual([])
          // Deliver to the other replica chunk by chunk, in a random order.
          const chunks = g(fc.shuffledSubarray, res.changesets, { minLength: res.changesets.length })
          for (const cs of chunks) {
            const ob = rowsByKey(other)
            events[1 - i]!.length = 0
            const r = other.apply(cs)
            if (r.status === 'buffered') {
              expect(events[1 - i], `step ${k}: buffered chunk emitted events`).toEqual([])
              expect(rowsByKey(other)).toEqual(ob)
            } else {
              checkEvents(ob, rowsByKey(other), events[1 - i]!, 'remote', `step ${k} remote ${r.status}`)
            }
          }
        }
      } finally {
        for (const s of stores) s.close()
      }
    }), fcParams(50))
  }, PROP_TIMEOUT)

  test('unsubscribing stops events', () => {
    const s = openStore({ path: ':memory:' })
    try {
      s.applySchema(RANDOM_SCHEMA)
      const seen: CommitEvent[] = []
      const off = s.onCommit(ev => { seen.push(ev) })
      s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('a')" }])
      off()
      s.transaction([{ sql: "INSERT INTO tags (k) VALUES ('b')" }])
      expect(seen.length).toBe(1)
    } finally { s.close() }
  })
})

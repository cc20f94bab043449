import { describe, expect, it } from 'vitest'
import type { CommitEvent } from '../src/index.ts'
import { hex, pull, stores } from './helpers.ts'

const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT); CREATE TABLE c (k TEXT NOT NULL, n INTEGER NOT NULL, PRIMARY KEY (k, n))'

function brief (ev: CommitEvent): unknown {
  return [ev.source, ev.changes.map(c => [c.table, hex(c.pk), c.pkValues, c.kind]).sort()]
}

describe('commit notifications', () => {
  it('reports local inserts, updates and deletes once per committed transaction', () => {
    const [a] = stores(1, schema)
    const evs: CommitEvent[] = []
    const off = a!.onCommit(ev => evs.push(ev))
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x'), (2, 'y')" }, { sql: "INSERT INTO c VALUES ('k', 7)" }])
    a!.transaction([{ sql: "UPDATE t SET a = 'z' WHERE id = 1" }, { sql: 'DELETE FROM t WHERE id = 2' }])
    a!.transaction([{ sql: "INSERT INTO t VALUES (3, 'new')" }, { sql: "UPDATE t SET a = 'newer' WHERE id = 3" }])
    a!.transaction([{ sql: 'UPDATE t SET a = a' }])
    expect(() => a!.transaction([{ sql: "INSERT INTO t VALUES (9, 'x')" }, { sql: 'bad sql' }])).toThrow()
    expect(evs.map(brief)).toEqual([
      ['local', [['c', '020b016b0907', ['k', 7], 'insert'], ['t', '010901', [1], 'insert'], ['t', '010902', [2], 'insert']]],
      ['local', [['t', '010901', [1], 'update'], ['t', '010902', [2], 'delete']]],
      ['local', [['t', '010903', [3], 'insert']]]
    ])
    off()
    a!.transaction([{ sql: "INSERT INTO t VALUES (4, 'x')" }])
    expect(evs).toHaveLength(3)
    a!.close()
  })
  it('reports REPLACE of a live row as an update, for scalar and composite keys, after any earlier write', () => {
    const [a] = stores(1, schema)
    const evs: CommitEvent[] = []
    a!.onCommit(ev => evs.push(ev))
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x'), (2, 'y')" }, { sql: "INSERT INTO c VALUES ('k', 1), ('k', 2)" }])
    a!.transaction([
      { sql: "INSERT OR REPLACE INTO t VALUES (1, 'r')" },
      { sql: "UPDATE t SET a = 'u' WHERE id = 2" }, { sql: "INSERT OR REPLACE INTO t VALUES (2, 'r')" },
      { sql: "INSERT OR REPLACE INTO t VALUES (3, 'new')" }, { sql: "INSERT OR REPLACE INTO t VALUES (3, 'again')" },
      { sql: "INSERT OR REPLACE INTO c VALUES ('k', 1)" },
      { sql: "UPDATE c SET n = 3 WHERE n = 2" }, { sql: "INSERT OR REPLACE INTO c VALUES ('k', 3)" }
    ])
    expect(brief(evs[1]!)).toEqual(['local', [
      ['c', '020b016b0901', ['k', 1], 'update'], ['c', '020b016b0902', ['k', 2], 'delete'], ['c', '020b016b0903', ['k', 3], 'insert'],
      ['t', '010901', [1], 'update'], ['t', '010902', [2], 'update'], ['t', '010903', [3], 'insert']
    ]])
    a!.close()
  })
  it('reports every row of a transaction that touches more rows than one log fold', () => {
    const [a] = stores(1, schema)
    const evs: CommitEvent[] = []
    a!.onCommit(ev => evs.push(ev))
    const n = 70_000
    a!.transaction(tx => {
      for (let i = 0; i < n; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'x'])
      tx.run("UPDATE t SET a = 'y' WHERE id < 10")
      tx.run('DELETE FROM t WHERE id >= 10 AND id < 20')
    })
    a!.transaction(tx => { for (let i = 0; i < n; i++) tx.run("UPDATE t SET a = 'z' WHERE id = ?", [i]) })
    const kinds = (ev: CommitEvent): Record<string, number> => {
      const out: Record<string, number> = {}
      for (const c of ev.changes) out[c.kind ?? 'none'] = (out[c.kind ?? 'none'] ?? 0) + 1
      return out
    }
    // rows inserted and deleted in one transaction were never seen: no change for them
    expect(kinds(evs[0]!)).toEqual({ insert: n - 10 })
    expect(kinds(evs[1]!)).toEqual({ update: n - 10 })
    expect(new Set(evs[1]!.changes.map(c => c.pkValues[0])).size).toBe(n - 10)
    a!.close()
  })
  it('builds the changes of an event when a listener first reads them, once', () => {
    const [a] = stores(1, schema)
    const evs: CommitEvent[] = []
    let counted = 0
    a!.onCommit(() => { counted++ })
    a!.onCommit(ev => evs.push(ev))
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x')" }])
    a!.transaction([{ sql: "UPDATE t SET a = 'y' WHERE id = 1" }])
    expect(counted).toBe(2)
    const first = evs[0]!.changes
    expect(evs[0]!.changes).toBe(first)
    expect(first.map(c => [c.table, c.pkValues, c.kind])).toEqual([['t', [1], 'insert']])
    expect(evs[1]!.changes.map(c => [c.table, c.pkValues, c.kind])).toEqual([['t', [1], 'update']])
    a!.close()
  })
  it('reports merged rows as remote, and only rows that changed', () => {
    const [a, b] = stores(2, schema)
    a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x'), (2, 'y')" }])
    const evs: CommitEvent[] = []
    b!.onCommit(ev => evs.push(ev))
    pull(b!, a!)
    a!.transaction([{ sql: "UPDATE t SET a = 'q' WHERE id = 1" }, { sql: 'DELETE FROM t WHERE id = 2' }])
    pull(b!, a!)
    pull(b!, a!)
    expect(evs.map(brief)).toEqual([
      ['remote', [['t', '010901', [1], 'insert'], ['t', '010902', [2], 'insert']]],
      ['remote', [['t', '010901', [1], 'update'], ['t', '010902', [2], 'delete']]]
    ])
    a!.close(); b!.close()
  })
  it('keeps going when a listener throws', () => {
    const [a] = stores(1, schema)
    let n = 0
    a!.onCommit(() => { throw new Error('listener bug') })
    a!.onCommit(() => { n++ })
    expect(a!.transaction([{ sql: "INSERT INTO t VALUES (1, 'x')" }]).version).toBe(1)
    expect(n).toBe(1)
    a!.close()
  })
})

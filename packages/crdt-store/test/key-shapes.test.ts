import { describe, expect, it } from 'vitest'
import { changesView, pull, rows, stores, syncAll } from './helpers.ts'

const schema = `CREATE TABLE c (k TEXT NOT NULL, n INTEGER NOT NULL, v TEXT, w REAL, PRIMARY KEY (k, n)) WITHOUT ROWID;
CREATE TABLE tags (k TEXT PRIMARY KEY NOT NULL);
CREATE TABLE big (id INTEGER PRIMARY KEY NOT NULL, v TEXT);
CREATE TABLE b (k BLOB PRIMARY KEY NOT NULL, v TEXT)`

describe('key shapes', () => {
  it('replicates composite, text, blob and 64-bit keys through inserts, updates, key changes and deletes', () => {
    const [a, b, c] = stores(3, schema)
    a!.transaction([
      { sql: "INSERT INTO c VALUES ('x', 1, 'one', 1.0), ('x', 2, 'two', 2.5)" },
      { sql: "INSERT INTO tags VALUES ('red'), ('blue')" },
      { sql: 'INSERT INTO big VALUES (?, ?)', params: [9007199254740993n, 'huge'] },
      { sql: 'INSERT INTO b VALUES (?, ?)', params: [new Uint8Array([0, 1, 2]), 'blob key'] }
    ])
    pull(b!, a!)
    b!.transaction([{ sql: "UPDATE c SET v = 'uno' WHERE k = 'x' AND n = 1" }, { sql: "UPDATE c SET n = 3 WHERE k = 'x' AND n = 2" }])
    a!.transaction([{ sql: "DELETE FROM tags WHERE k = 'red'" }, { sql: 'UPDATE big SET v = ? WHERE id = ?', params: ['bigger', 9007199254740993n] }])
    c!.transaction([{ sql: "INSERT INTO tags VALUES ('green')" }])
    syncAll([a!, b!, c!])
    for (const s of [a!, b!, c!]) {
      expect(rows(s, 'c')).toEqual([['x', 1, 'uno', 1], ['x', 3, 'two', 2.5]])
      expect([...s.read("SELECT k FROM tags ORDER BY k").rows]).toEqual([["blue"], ["green"]])
      expect(rows(s, 'big')).toEqual([[9007199254740993n, 'bigger']])
      expect(rows(s, 'b').map(r => [Buffer.from(r[0] as Uint8Array).toString('hex'), r[1]])).toEqual([['000102', 'blob key']])
    }
    expect(changesView(b!)).toEqual(changesView(a!))
    expect(changesView(c!)).toEqual(changesView(a!))
    a!.close(); b!.close(); c!.close()
  })
})

import { describe, expect, it } from 'vitest'
import { openStore } from '../src/index.ts'
import type { ApplyResult, Changeset, CommitEvent, CrdtStore } from '../src/index.ts'
import { rows } from './helpers.ts'

const SCHEMA = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)'

function store (schema = SCHEMA, chunkBytes?: number): CrdtStore {
  const s = openStore({ path: ':memory:', ...(chunkBytes != null ? { chunkBytes } : {}) })
  s.applySchema(schema)
  return s
}

function write (s: CrdtStore, id: number, a: string): Changeset[] {
  return s.transaction([{ sql: 'INSERT OR REPLACE INTO t VALUES (?, ?)', params: [id, a] }]).changesets
}

describe('applyBatch', () => {
  it('applies changesets of several actors in one go, like one apply() each', () => {
    const [a, b, one, many] = [store(), store(), store(), store()]
    const css = [...write(a, 1, 'a1'), ...write(b, 2, 'b1'), ...write(a, 2, 'a2'), ...write(b, 1, 'b2')]
    const want = css.map(cs => one.apply(cs))
    const res = many.applyBatch(css)
    expect(res).toEqual(want)
    expect(rows(many, 't')).toEqual(rows(one, 't'))
    expect(many.syncStatus()).toEqual(one.syncStatus())
    for (const s of [a, b, one, many]) s.close()
  })

  it('isolates a bad changeset: its typed error takes its slot, nothing of it is kept, the rest commit', () => {
    const a = store()
    const other = store('CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT); CREATE TABLE extra (k INTEGER PRIMARY KEY NOT NULL, v TEXT)')
    const dst = store()
    const good1 = write(a, 1, 'x')
    const bad = other.transaction([
      { sql: "INSERT INTO t VALUES (7, 'half')" },
      { sql: "INSERT INTO extra VALUES (1, 'unknown here')" }
    ]).changesets
    const good2 = write(a, 2, 'y')
    const res = dst.applyBatch([...good1, ...bad, ...good2])
    expect((res[0] as ApplyResult).status).toBe('applied')
    expect(res[1]).toBeInstanceOf(Error)
    expect((res[1] as Error).name).toBe('UnknownTableError')
    expect((res[2] as ApplyResult).status).toBe('applied')
    // the failed version wrote nothing (not even its row of t) and stays a gap-free unknown
    expect(rows(dst, 't')).toEqual([[1, 'x'], [2, 'y']])
    expect(dst.syncStatus().find(x => x.actor === Buffer.from(other.siteId).toString('hex'))?.head ?? 0).toBe(0)
    // a malformed entry is refused the same way
    const res2 = dst.applyBatch([{ ...good1[0]!, version: -1 }, ...write(a, 3, 'z')])
    expect((res2[0] as Error).name).toBe('MalformedChangesetError')
    expect((res2[1] as ApplyResult).status).toBe('applied')
    for (const s of [a, other, dst]) s.close()
  })

  it('keeps every verdict when a changeset fails halfway through its writes', () => {
    // the receiver's STRICT column refuses a value only once the merge writes it
    const src = store('CREATE TABLE s (id INTEGER PRIMARY KEY NOT NULL, n INTEGER)')
    const dst = store('CREATE TABLE s (id INTEGER PRIMARY KEY NOT NULL, n INTEGER) STRICT')
    const write = (id: number, n: unknown): Changeset[] => src.transaction([{ sql: 'INSERT INTO s VALUES (?, ?)', params: [id, n as number] }]).changesets
    const list = [...write(1, 10), ...write(2, 'not a number'), ...write(3, 30)]
    const res = dst.applyBatch(list)
    expect((res[0] as ApplyResult).status).toBe('applied')
    expect((res[1] as Error).name).toBe('MalformedChangesetError')
    expect((res[2] as ApplyResult).status).toBe('applied')
    expect(rows(dst, 's')).toEqual([[1, 10], [3, 30]])
    const heads = dst.syncStatus().find(x => x.actor === Buffer.from(src.siteId).toString('hex'))
    expect(heads).toMatchObject({ head: 3, gaps: [[2, 2]] })
    for (const s of [src, dst]) s.close()
  })

  it('sees its own earlier entries: a duplicate inside the batch is reported as such', () => {
    const a = store()
    const dst = store()
    const cs = write(a, 1, 'x')
    const res = dst.applyBatch([...cs, ...cs])
    expect(res.map(r => (r as ApplyResult).status)).toEqual(['applied', 'duplicate'])
    for (const s of [a, dst]) s.close()
  })

  it('completes a chunked version whose chunks arrive in one batch, atomically', () => {
    const a = store(SCHEMA, 64)
    const dst = store()
    const css = a.transaction(tx => { for (let i = 0; i < 40; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v' + i]) }).changesets
    expect(css.length).toBeGreaterThan(3)
    const res = dst.applyBatch([...css].reverse())
    expect(res.slice(0, -1).every(r => (r as ApplyResult).status === 'buffered')).toBe(true)
    expect((res.at(-1) as ApplyResult).status).toBe('applied')
    expect(rows(dst, 't')).toHaveLength(40)
    expect(dst.syncStatus().every(x => x.partials.length === 0)).toBe(true)
    for (const s of [a, dst]) s.close()
  })

  it('sends commit events only after the batch committed, one per applied version', () => {
    const a = store()
    const dst = store()
    const css = [...write(a, 1, 'x'), ...write(a, 2, 'y')]
    const seen: Array<{ ev: CommitEvent; visible: number }> = []
    dst.onCommit(ev => {
      // the events come after COMMIT: a new read sees both rows already
      seen.push({ ev, visible: [...dst.read('SELECT count(*) FROM t').rows][0]![0] as number })
    })
    dst.applyBatch(css)
    expect(seen.map(s => s.ev.source)).toEqual(['remote', 'remote'])
    expect(seen.map(s => s.visible)).toEqual([2, 2])
    for (const s of [a, dst]) s.close()
  })

  it('refuses to run inside another store call and accepts an empty list', () => {
    const a = store()
    const dst = store()
    const cs = write(a, 1, 'x')
    expect(dst.applyBatch([])).toEqual([])
    expect(() => dst.transaction(() => dst.applyBatch(cs))).toThrow(/cannot nest/)
    expect(rows(dst, 't')).toEqual([])
    for (const s of [a, dst]) s.close()
  })
})

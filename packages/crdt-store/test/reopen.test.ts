import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { afterEach, describe, expect, it } from 'vitest'
import { encodeChangeset, openStore } from '../src/index.ts'
import { hex, rows } from './helpers.ts'

const dirs: string[] = []
afterEach(() => { for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true }) })
function tmpDir (): string { const d = mkdtempSync(join(tmpdir(), 'crdt-reopen-')); dirs.push(d); return d }
const schema = 'CREATE TABLE t (id INTEGER PRIMARY KEY NOT NULL, a TEXT)'

describe('durability', () => {
  it('reopens a file store with data, site id and bookkeeping intact', () => {
    const path = join(tmpDir(), 'db.sqlite')
    const remote = openStore({ path: ':memory:' })
    remote.applySchema(schema)
    const rv = [1, 2, 3].map(i => remote.transaction([{ sql: 'INSERT INTO t VALUES (?, ?)', params: [i, 'r' + i] }]).changesets[0]!)
    let s = openStore({ path })
    s.applySchema(schema)
    const site = hex(s.siteId)
    s.transaction([{ sql: "INSERT INTO t VALUES (10, 'local')" }])
    s.apply(rv[2]!)
    const status = s.syncStatus()
    s.close()
    s = openStore({ path })
    expect(hex(s.siteId)).toBe(site)
    expect(s.syncStatus()).toEqual(status)
    expect(s.gapCount()).toBe(2)
    expect(rows(s, 't')).toEqual([[3, 'r3'], [10, 'local']])
    expect(s.transaction([{ sql: "INSERT INTO t VALUES (11, 'next')" }]).version).toBe(2)
    expect(s.applySchema(schema).unchanged).toBe(true)
    s.close()
    remote.close()
  })
  it('rebuilds change-capture triggers an older version left in the file', () => {
    const path = join(tmpDir(), 'db.sqlite')
    let s = openStore({ path })
    s.applySchema('CREATE TABLE c (id INTEGER PRIMARY KEY NOT NULL, v TEXT COLLATE NOCASE)')
    s.transaction([{ sql: "INSERT INTO c VALUES (1, 'a')" }])
    s.close()
    const triggers = (db: Database.Database): string[] => db.prepare("SELECT sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all() as string[]
    // an older build compared values with the column's collation, so a case-only change was lost
    const raw = new Database(path)
    const current = triggers(raw)
    const old = current.map(t => t.replace(' COLLATE BINARY', ''))
    expect(old).not.toEqual(current)
    raw.exec('DROP TRIGGER "c__crsql_utrig_v"')
    raw.exec(old.find(t => t.includes('c__crsql_utrig_v'))!)
    raw.close()
    s = openStore({ path })
    const check = new Database(path, { readonly: true })
    expect(triggers(check)).toEqual(current)
    check.close()
    expect(s.transaction([{ sql: "UPDATE c SET v = 'A' WHERE id = 1" }]).version).toBe(2)
    s.close()
  })
  it('survives SIGKILL of a writing process: data, site id and bookkeeping intact', async () => {
    const dir = tmpDir()
    const path = join(dir, 'db.sqlite')
    const remote = openStore({ path: ':memory:' })
    remote.applySchema(schema)
    remote.transaction([{ sql: "INSERT INTO t VALUES (1, 'r1')" }])
    const r2 = remote.transaction([{ sql: "INSERT INTO t VALUES (2, 'r2')" }]).changesets[0]!
    writeFileSync(join(dir, 'remote.bin'), encodeChangeset(r2))
    const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', fileURLToPath(new URL('./fixtures/writer-child.ts', import.meta.url)), path, join(dir, 'remote.bin')], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    const exited = new Promise<NodeJS.Signals | null>(resolve => child.on('exit', (_code, sig) => resolve(sig)))
    const committed = await new Promise<number>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('child wrote nothing in time: ' + err)), 20_000)
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString()
        const m = [...out.matchAll(/^v (\d+)$/gm)]
        if (m.length >= 200) {
          clearTimeout(deadline)
          child.kill('SIGKILL')
          resolve(Number(m[m.length - 1]![1]))
        }
      })
    })
    expect(await exited).toBe('SIGKILL')
    const site = /^site ([0-9a-f]{32})$/m.exec(out)![1]
    const s = openStore({ path })
    expect(hex(s.siteId)).toBe(site)
    const mine = s.syncStatus().find(a => a.actor === site)!
    expect(mine.head).toBeGreaterThanOrEqual(committed)
    // every committed version has its row, and nothing beyond the recorded head exists
    expect([...s.read('SELECT count(*) FROM t WHERE id > 1000').rows][0]![0]).toBe(mine.head)
    expect(s.syncStatus().find(a => a.actor === hex(remote.siteId))).toMatchObject({ head: 2, gaps: [[1, 1]] })
    expect(s.changes(s.siteId, mine.head, mine.head)).toHaveLength(1)
    expect(s.transaction([{ sql: "INSERT INTO t VALUES (5, 'after')" }]).version).toBe(mine.head + 1)
    s.close()
    remote.close()
  }, 60_000)
  it('reads from a file store through its own connection while writes go on', () => {
    const s = openStore({ path: join(tmpDir(), 'db.sqlite') })
    s.applySchema(schema)
    s.transaction(tx => { for (let i = 0; i < 100; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'v' + i]) })
    const cur = s.read('SELECT id FROM t ORDER BY id')
    const first = cur.rows.next().value
    s.transaction([{ sql: "INSERT INTO t VALUES (1000, 'during')" }])
    expect(first).toEqual([0])
    expect([...cur.rows]).toHaveLength(99)
    cur.close()
    expect([...s.read('SELECT count(*) FROM crsql_changes WHERE site_id = crsql_site_id() AND db_version = 2').rows]).toEqual([[1]])
    expect(() => s.read("DELETE FROM t")).toThrow(expect.objectContaining({ name: 'StatementNotReadonlyError' }))
    s.close()
  })
  it('backs up to a consistent snapshot with progress', async () => {
    const dir = tmpDir()
    const s = openStore({ path: join(dir, 'db.sqlite') })
    s.applySchema(schema)
    s.transaction(tx => { for (let i = 0; i < 2000; i++) tx.run('INSERT INTO t VALUES (?, ?)', [i, 'x'.repeat(100)]) })
    const seen: number[] = []
    await s.backup(join(dir, 'copy.sqlite'), { progress: (done, total) => seen.push(done / total) })
    expect(seen.at(-1)).toBe(1)
    const c = openStore({ path: join(dir, 'copy.sqlite') })
    // the copy forgets this node's identity: the old actor is a peer there
    expect(hex(c.siteId)).not.toBe(hex(s.siteId))
    expect(c.syncStatus().find(a => a.actor === hex(s.siteId))?.head).toBe(1)
    expect([...c.read('SELECT count(*) FROM t').rows]).toEqual([[2000]])
    expect(c.changes(s.siteId, 1, 1)).toHaveLength(2000)
    await s.backup(join(dir, 'same.sqlite'), { keepIdentity: true })
    const same = openStore({ path: join(dir, 'same.sqlite') })
    expect(hex(same.siteId)).toBe(hex(s.siteId))
    same.close()
    const ac = new AbortController()
    ac.abort()
    await expect(s.backup(join(dir, 'x.sqlite'), { signal: ac.signal })).rejects.toMatchObject({ name: 'AbortError' })
    c.close()
    s.close()
    expect(() => s.summary()).toThrow(expect.objectContaining({ name: 'StoreClosedError' }))
  })
})

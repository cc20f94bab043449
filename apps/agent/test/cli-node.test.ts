import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { spawn } from 'node:child_process'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openStore } from '@patina/crdt-store'
import type { Agent } from '../src/agent.ts'
import { startAgents, eventually } from './support/in-process.ts'
import { runPatina } from './support/cli.ts'

const SCHEMA = 'CREATE TABLE svc (name TEXT NOT NULL PRIMARY KEY, port INTEGER);\n'
const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

describe('patina CLI against a running node', () => {
  let agent: Agent
  let dir: string
  let close: () => Promise<void> = async () => {}
  let flags: string[] = []
  beforeAll(async () => {
    const started = await startAgents(1, SCHEMA, { 'telemetry.prometheus.addr': '127.0.0.1:0' })
    agent = started.agents[0]!
    dir = started.dir
    close = started.close
    flags = ['--api-addr', agent.listening.api[0]!, '--admin-path', agent.listening.admin]
  }, 60_000)
  afterAll(async () => { await close() })

  it("exec and query: Corrosion's a|b|c lines by default, a table with --table, and JSON", async () => {
    const w = await runPatina([...flags, 'exec', 'INSERT INTO svc (name, port) VALUES (?, ?)', '-p', 'web', '-p', '80'])
    expect(w.code, w.stderr).toBe(0)
    expect(w.stdout).toMatch(/Rows affected: 1/)
    const q = await runPatina([...flags, 'query', 'SELECT name, port FROM svc'])
    expect(q.code, q.stderr).toBe(0)
    expect(q.stdout).toBe('web|80\n')
    const c = await runPatina([...flags, 'query', 'SELECT name, port FROM svc', '--columns'])
    expect(c.stdout).toBe('name|port\nweb|80\n')
    // NULL is an empty field, blobs are x'hex', reals and text as they are (Corrosion's SqliteValue Display).
    const v = await runPatina([...flags, 'query', "SELECT NULL AS n, x'00ff10' AS b, 2.5 AS r, 'a b' AS t, -3 AS i", '--columns'])
    expect(v.stdout).toBe("n|b|r|t|i\n|x'00ff10'|2.5|a b|-3\n")
    const none = await runPatina([...flags, 'query', 'SELECT name FROM svc WHERE 0', '--columns'])
    expect(none.stdout).toBe('name\n')
    const t = await runPatina([...flags, 'query', 'SELECT name, port FROM svc', '--table'])
    expect(t.stdout).toBe('name  port\n----  ----\nweb   80\n')
    const p = await runPatina([...flags, 'query', 'SELECT name, port FROM svc', '--plain', '--columns'])
    expect(p.stdout).toBe('name|port\nweb|80\n')
    const j = await runPatina([...flags, 'query', 'SELECT name, port FROM svc', '--json'])
    expect(JSON.parse(j.stdout)).toEqual({ columns: ['name', 'port'], rows: [['web', 80]] })
    const withTimeout = await runPatina([...flags, 'query', 'SELECT name FROM svc', '--timeout', '5'])
    expect(withTimeout.stdout).toBe('web\n')
    const help = await runPatina(['query', '--help'])
    expect(help.stdout).toMatch(/--json\s+print one JSON object \{"columns"/)
    expect(help.stdout).toMatch(/--timeout <seconds>/)
    const bad = await runPatina([...flags, 'exec', 'INSERT INTO nope VALUES (1)'])
    expect(bad.code).toBe(1)
    expect(bad.stderr).toMatch(/nope/)
  })

  it('cluster members, sync status, reload and rejoin over the admin socket', async () => {
    const m = await runPatina([...flags, 'cluster', 'members', '--json'])
    expect(m.code, m.stderr).toBe(0)
    const members = JSON.parse(m.stdout) as Array<{ id: string; self: boolean; state: string }>
    expect(members.find(x => x.self)?.id).toBe(agent.actorId)
    const s = await runPatina([...flags, 'sync', 'status'])
    expect(s.code, s.stderr).toBe(0)
    expect(s.stdout).toContain(agent.actorId)
    const r = await runPatina([...flags, 'reload', '--json'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ unchanged: true })
    const rj = await runPatina([...flags, 'cluster', 'rejoin'])
    expect(rj.code, rj.stderr).toBe(0)
  })

  it('subscribe streams rows then a change', async () => {
    const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', BIN, ...flags, 'subscribe', 'SELECT name, port FROM svc', '--json', '--max-events', '1'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    const exited = new Promise<number | null>(resolve => { child.on('exit', resolve) })
    try {
      await eventually(() => out.includes('"eoq"') ? true : undefined, 15_000, 'initial rows')
      await agent.transaction([{ sql: 'INSERT INTO svc VALUES (?, ?)', params: ['db', 5432] }])
      expect(await exited).toBe(0)
    } finally {
      child.kill()
    }
    const events = out.trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
    expect(events[0]).toHaveProperty('columns')
    expect(events.at(-1)?.change).toEqual(['insert', expect.any(Number), ['db', 5432], expect.any(Number)])
  })

  it('template renders live query results and re-renders on change, running the command', async () => {
    const src = join(dir, 'svc.eta')
    const dst = join(dir, 'svc.conf')
    const marker = join(dir, 'rendered.count')
    writeFileSync(src, '<% const rows = await it.sql("SELECT name, port FROM svc ORDER BY name") %><% for (const r of rows) { %>backend <%= r.name %> 127.0.0.1:<%= r.port %>\n<% } %>')
    const once = await runPatina([...flags, 'template', `${src}:${dst}`, '--once'])
    expect(once.code, once.stderr).toBe(0)
    expect(readFileSync(dst, 'utf8')).toContain('backend web 127.0.0.1:80\n')
    const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', BIN, ...flags, 'template', `${src}:${dst}:echo x >> ${marker}`], { stdio: 'ignore' })
    try {
      await eventually(() => existsSync(marker) ? true : undefined, 15_000, 'first render')
      await agent.transaction([{ sql: 'INSERT INTO svc VALUES (?, ?)', params: ['cache', 6379] }])
      await eventually(() => readFileSync(dst, 'utf8').includes('backend cache 127.0.0.1:6379') ? true : undefined, 15_000, 're-render')
      await eventually(() => readFileSync(marker, 'utf8').split('\n').filter(Boolean).length >= 2 ? true : undefined, 15_000, 'command after re-render')
    } finally {
      child.kill('SIGTERM')
    }
  })

  it('backup through the running node, restore elsewhere; keygen prints a secret and an identity', async () => {
    const b = await runPatina([...flags, 'backup', join(dir, 'snap.db'), '--json'])
    expect(b.code, b.stderr).toBe(0)
    expect(JSON.parse(b.stdout)).toMatchObject({ mode: 'online' })
    // An existing target is never overwritten (online or offline), as Corrosion's VACUUM INTO refuses.
    const before = readFileSync(join(dir, 'snap.db'))
    const twice = await runPatina([...flags, 'backup', join(dir, 'snap.db')])
    expect(twice.code).toBe(1)
    expect(twice.stderr).toBe(`patina: backup target ${join(dir, 'snap.db')} already exists; remove it or choose another file\n`)
    writeFileSync(join(dir, 'precious.txt'), 'keep me')
    const offline = await runPatina(['--admin-path', join(dir, 'none.sock'), '--db-path', join(dir, 'snap.db'), 'backup', join(dir, 'precious.txt')])
    expect(offline.code).toBe(1)
    expect(offline.stderr).toMatch(/backup target .*precious\.txt already exists/)
    expect(readFileSync(join(dir, 'precious.txt'), 'utf8')).toBe('keep me')
    expect(readFileSync(join(dir, 'snap.db')).equals(before)).toBe(true)
    // restore: a new actor id by default, the snapshot's with --keep-actor-id; the data either way
    const other = ['--admin-path', join(dir, 'other.sock')]
    const fresh = await runPatina([...other, '--db-path', join(dir, 'r1', 'p.db'), 'restore', join(dir, 'snap.db'), '--json'])
    expect(fresh.code, fresh.stderr).toBe(0)
    expect((JSON.parse(fresh.stdout) as { actor: string }).actor).not.toBe(agent.actorId)
    const same = await runPatina([...flags, 'backup', join(dir, 'snap-id.db'), '--keep-actor-id', '--json'])
    expect(same.code, same.stderr).toBe(0)
    const kept = await runPatina([...other, '--db-path', join(dir, 'r2', 'p.db'), 'restore', join(dir, 'snap-id.db'), '--keep-actor-id', '--json'])
    expect(kept.code, kept.stderr).toBe(0)
    expect((JSON.parse(kept.stdout) as { actor: string }).actor).toBe(agent.actorId)
    for (const db of [join(dir, 'r1', 'p.db'), join(dir, 'r2', 'p.db')]) {
      const s = openStore({ path: db })
      const cur = s.read('SELECT count(*) FROM svc')
      expect([...cur.rows][0]?.[0]).toBeGreaterThanOrEqual(1)
      s.close()
    }
    const k = await runPatina(['keygen', '--identity', join(dir, 'id.key'), '--json'])
    expect(k.code, k.stderr).toBe(0)
    const key = JSON.parse(k.stdout) as { secret: string; peerId: string }
    expect(key.secret.length).toBeGreaterThanOrEqual(40)
    expect(key.peerId).toMatch(/^12D3KooW/)
    // the same file gives the same peer id
    const again = JSON.parse((await runPatina(['keygen', '--identity', join(dir, 'id.key'), '--json'])).stdout) as { peerId: string }
    expect(again.peerId).toBe(key.peerId)
  })

  it('serves Prometheus metrics', async () => {
    const res = await fetch(`http://${agent.listening.prometheus}/metrics`)
    const text = await res.text()
    expect(text).toMatch(/patina_changes_committed_total\{source="local"\} \d+/)
    expect(text).toMatch(/patina_api_requests_total\{/)
    expect(text).toMatch(/patina_gaps 0/)
    expect(text).toMatch(/patina_members\{state="alive"\}/)
    expect(text).toMatch(/patina_apply_lag_seconds_bucket/)
  })
})

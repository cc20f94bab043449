import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createSocket } from 'node:dgram'
import { loadConfig } from '../src/config.ts'
import { createAgent, type Agent } from '../src/agent.ts'
import { createLogger } from '../src/logger.ts'
import { createMetrics } from '../src/metrics.ts'
import { post, eventually } from './support/in-process.ts'
import { runPatina } from './support/cli.ts'

const cleanups: Array<() => Promise<void> | void> = []
afterEach(async () => { for (const fn of cleanups.splice(0).reverse()) await fn() })

function tempDir (): string {
  const dir = mkdtempSync(join(tmpdir(), 'patina-bad-'))
  cleanups.push(() => { rmSync(dir, { recursive: true, force: true }) })
  return dir
}

async function agentAt (dir: string, name: string, schemaSql: string, overrides: Record<string, unknown> = {}): Promise<Agent> {
  mkdirSync(join(dir, name), { recursive: true })
  const schemaPath = join(dir, name, 'schema.sql')
  writeFileSync(schemaPath, schemaSql)
  const config = loadConfig({
    env: {},
    overrides: {
      'db.path': join(dir, name, 'patina.db'),
      'db.schema_paths': [schemaPath],
      'api.addr': '127.0.0.1:0',
      'gossip.addr': '127.0.0.1:0',
      'admin.path': join(dir, name, 'admin.sock'),
      ...overrides
    }
  })
  const agent = await createAgent({ config, logger: createLogger({ format: 'json', level: process.env.PATINA_TEST_LOG ?? 'silent' }), metrics: createMetrics(), swimPreset: 'local', syncIntervalMs: { min: 200, max: 500 } })
  cleanups.push(async () => { await agent.stop() })
  await agent.start()
  return agent
}

async function rows (agent: Agent, sql: string): Promise<unknown[][]> {
  const res = await post(agent, '/v1/queries', sql)
  return (await res.text()).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>).filter(e => e.row !== undefined).map(e => (e.row as [number, unknown[]])[1])
}

describe('bad input end to end', () => {
  it('an unreachable bootstrap does not stop the node from serving', async () => {
    const dir = tempDir()
    // a UDP port nobody answers on
    const s = createSocket('udp4')
    await new Promise<void>(resolve => { s.bind(0, '127.0.0.1', () => { resolve() }) })
    const deadPort = s.address().port
    s.close()
    const a = await agentAt(dir, 'a', 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);', { 'gossip.bootstrap': [`127.0.0.1:${deadPort}`] })
    const w = await post(a, '/v1/transactions', [['INSERT INTO t VALUES (?, ?)', [1, 'x']]])
    expect(w.status).toBe(200)
    expect(await rows(a, 'SELECT * FROM t')).toEqual([[1, 'x']])
    expect(a.members().filter(m => m.state === 'alive').map(m => m.self)).toEqual([true])
  })

  it('a schema file with an unsupported change is refused with a clear error; nothing changes', async () => {
    const dir = tempDir()
    const a = await agentAt(dir, 'a', 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);')
    await post(a, '/v1/transactions', [['INSERT INTO t VALUES (?, ?)', [1, 'kept']]])
    const before = a.contentHash()
    // dropping a column is destructive
    writeFileSync(join(dir, 'a', 'schema.sql'), 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY);')
    const r = await runPatina(['--admin-path', join(dir, 'a', 'admin.sock'), 'reload'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^patina: dropping column "v" of table "t" .*refused \(statement: CREATE TABLE t/)
    expect(a.contentHash()).toEqual(before)
    // the node is still fine; a valid additive change then applies
    writeFileSync(join(dir, 'a', 'schema.sql'), 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT, extra INTEGER);')
    const ok = await runPatina(['--admin-path', join(dir, 'a', 'admin.sock'), 'reload', '--json'])
    expect(ok.code, ok.stderr).toBe(0)
    expect(await rows(a, 'SELECT id, v, extra FROM t')).toEqual([[1, 'kept', null]])
  })

  it('writes of unknown tables are clear errors; changes for a table a peer lacks arrive once its schema has it', async () => {
    const dir = tempDir()
    const a = await agentAt(dir, 'a', 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);\nCREATE TABLE only_a (id INTEGER NOT NULL PRIMARY KEY, v TEXT);')
    const b = await agentAt(dir, 'b', 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);', { 'gossip.bootstrap': [a.listening.gossip[0]] })
    await eventually(() => b.members().filter(m => m.state === 'alive').length === 2 ? true : undefined, 20_000, 'membership')

    const bad = await post(b, '/v1/transactions', ['INSERT INTO only_a VALUES (1, \'x\')'])
    expect(bad.status).toBeGreaterThanOrEqual(400)
    expect(JSON.stringify(await bad.json())).toMatch(/only_a/)

    await post(a, '/v1/transactions', [['INSERT INTO only_a VALUES (?, ?)', [1, 'a-only']]])
    await post(a, '/v1/transactions', [['INSERT INTO t VALUES (?, ?)', [1, 'shared']]])
    // b applies what it can (table t) and keeps running
    await eventually(async () => (await rows(b, 'SELECT v FROM t')).length === 1 ? true : undefined, 15_000, 't on b')
    // once b's schema knows the table, anti-entropy delivers the version it refused
    writeFileSync(join(dir, 'b', 'schema.sql'), 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);\nCREATE TABLE only_a (id INTEGER NOT NULL PRIMARY KEY, v TEXT);')
    await b.reload()
    await eventually(async () => (await rows(b, 'SELECT v FROM only_a')).length === 1 ? true : undefined, 20_000, 'only_a on b after reload')
    await eventually(() => a.contentHash().hash === b.contentHash().hash && b.gapCount() === 0 ? true : undefined, 20_000, 'same content')
  })

  it('a corrupt database file or an unsupported schema stops the node at start with a clear message', async () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'data'))
    writeFileSync(join(dir, 'data', 'patina.db'), Buffer.alloc(8192, 0x5a))
    const corrupt = await runPatina(['agent'], { cwd: dir, env: { PATINA_API__ADDR: '127.0.0.1:0', PATINA_GOSSIP__ADDR: '127.0.0.1:0' } })
    expect(corrupt.code).toBe(1)
    expect(corrupt.stderr).toMatch(/cannot open the database at .*patina\.db: file is not a database \(SQLITE_NOTADB\)/)

    writeFileSync(join(dir, 'bad.sql'), 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT UNIQUE);')
    const schema = await runPatina(['agent', '--db-path', join(dir, 'other', 'p.db')], { cwd: dir, env: { PATINA_DB__SCHEMA_PATHS: join(dir, 'bad.sql'), PATINA_API__ADDR: '127.0.0.1:0', PATINA_GOSSIP__ADDR: '127.0.0.1:0' } })
    expect(schema.code).toBe(1)
    expect(schema.stderr).toMatch(/UNIQUE.*statement: CREATE TABLE t/)

    const missing = await runPatina(['agent'], { cwd: dir, env: { PATINA_DB__SCHEMA_PATHS: join(dir, 'nope.sql') } })
    expect(missing.code).toBe(2)
    expect(missing.stderr).toMatch(/db\.schema_paths: cannot read schema path/)
  })

  it('a taken port or a second node on the same data is refused with a clear message', async () => {
    const dir = tempDir()
    const a = await agentAt(dir, 'a', 'CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, v TEXT);')
    // same admin socket and database: refused before the database is touched
    const twin = await runPatina(['agent', '--db-path', join(dir, 'a', 'patina.db'), '--admin-path', join(dir, 'a', 'admin.sock')], { env: { PATINA_API__ADDR: '127.0.0.1:0', PATINA_GOSSIP__ADDR: '127.0.0.1:0' } })
    expect(twin.code).toBe(1)
    expect(twin.stderr).toMatch(/a node is already running with admin socket/)
    // the API port of the running node
    const taken = await runPatina(['agent', '--db-path', join(dir, 'b', 'patina.db'), '--api-addr', a.listening.api[0]!], { env: { PATINA_GOSSIP__ADDR: '127.0.0.1:0' } })
    expect(taken.code).toBe(1)
    expect(taken.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+ \(api\.addr\): address already in use/)
    expect((await post(a, '/v1/queries', 'SELECT 1')).status).toBe(200)
  })
})

/**
 * Corrosion's HTTP API answers (corrosion.md §1) and `[api]` config keys (§4), checked end to end:
 * a TOML file read by the real config loader, a real agent, real HTTP requests.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../src/config.ts'
import { createAgent, type Agent } from '../src/agent.ts'
import { createLogger } from '../src/logger.ts'
import { createMetrics } from '../src/metrics.ts'

const SCHEMA = 'CREATE TABLE todo (id INTEGER NOT NULL PRIMARY KEY, title TEXT, done INTEGER NOT NULL DEFAULT 0);\n'
const WRITES = ["UPDATE todo SET done = 1 WHERE id = 1", 'DELETE FROM todo WHERE id = 1', "INSERT INTO todo (id, title) VALUES (99, 'x')"]

interface Node { agent: Agent; url: string; close: () => Promise<void> }

/** Starts one agent from a config file whose `[api]` section ends with `api` (keys, then tables). */
async function startFromToml (api: string): Promise<Node> {
  const dir = mkdtempSync(join(tmpdir(), 'patina-api-compat-'))
  mkdirSync(join(dir, 'data'))
  writeFileSync(join(dir, 'schema.sql'), SCHEMA)
  const file = join(dir, 'patina.toml')
  writeFileSync(file, [
    '[db]', `path = ${JSON.stringify(join(dir, 'data', 'patina.db'))}`, `schema_paths = [${JSON.stringify(join(dir, 'schema.sql'))}]`,
    '[admin]', `path = ${JSON.stringify(join(dir, 'data', 'admin.sock'))}`,
    '[gossip]', 'addr = "127.0.0.1:0"',
    '[api]', 'addr = "127.0.0.1:0"', api, ''
  ].join('\n'))
  const agent = await createAgent({
    config: loadConfig({ path: file, env: {} }),
    logger: createLogger({ format: 'json', level: process.env.PATINA_TEST_LOG ?? 'silent' }),
    metrics: createMetrics(),
    swimPreset: 'local'
  })
  const close = async (): Promise<void> => { await agent.stop().catch(() => {}); rmSync(dir, { recursive: true, force: true }) }
  try { await agent.start() } catch (err) { await close(); throw err }
  return { agent, url: `http://${agent.listening.api[0] ?? ''}`, close }
}

async function request (url: string, body?: string, headers: Record<string, string> = {}): Promise<Response> {
  return await fetch(url, { method: body === undefined ? 'GET' : 'POST', headers: { 'content-type': 'application/json', ...headers }, ...(body !== undefined ? { body } : {}) })
}

async function rows (node: Node, sql: string, headers: Record<string, string> = {}): Promise<unknown[]> {
  const text = await (await request(node.url + '/v1/queries', JSON.stringify(sql), headers)).text()
  return text.trim().split('\n').map(l => JSON.parse(l) as { row?: [number, unknown[]] }).flatMap(l => l.row !== undefined ? [l.row[1]] : [])
}

describe('Corrosion API compatibility through the agent', () => {
  let node: Node
  const auth = { authorization: 'Bearer s3cret' }
  beforeAll(async () => {
    node = await startFromToml('endpoint_name = "n1"\n[api.authorization]\nbearer = "s3cret"')
    const res = await request(node.url + '/v1/transactions', JSON.stringify([["INSERT INTO todo (id, title) VALUES (1, 'one')"]]), auth)
    expect(res.status).toBe(200)
  })
  afterAll(async () => { await node?.close() })

  it('api.endpoint_name: another endpoint named → 421; this one or none → served', async () => {
    const other = await request(node.url + '/v1/health', undefined, { ...auth, 'x-corrosion-requested-endpoint-name': 'other' })
    expect(other.status).toBe(421)
    const otherQuery = await request(node.url + '/v1/queries', '"SELECT 1"', { ...auth, 'x-corrosion-requested-endpoint-name': 'other' })
    expect(otherQuery.status).toBe(421)
    const mine = await request(node.url + '/v1/queries', '"SELECT id FROM todo"', { ...auth, 'x-corrosion-requested-endpoint-name': 'n1' })
    expect(mine.status).toBe(200)
    expect(await mine.text()).toContain('"row":[1,[1]]')
    expect(await rows(node, 'SELECT id FROM todo', auth)).toEqual([[1]])
  })

  it('[api.authorization] bearer sets the bearer token', async () => {
    expect((await request(node.url + '/v1/queries', '"SELECT 1"')).status).toBe(401)
    expect((await request(node.url + '/v1/queries', '"SELECT 1"', { authorization: 'Bearer wrong' })).status).toBe(401)
    expect((await request(node.url + '/v1/queries', '"SELECT 1"', auth)).status).toBe(200)
  })

  it.each(['/v1/queries', '/v1/subscriptions'])('%s answers a write with exactly 400 {"error":"statement is not readonly"}', async (path) => {
    for (const sql of WRITES) {
      const res = await request(node.url + path, JSON.stringify(sql), auth)
      expect(res.status, sql).toBe(400)
      expect(await res.text(), sql).toBe('{"error":"statement is not readonly"}')
    }
    expect(await rows(node, 'SELECT id, title, done FROM todo', auth)).toEqual([[1, 'one', 0]])
  })

  it('refuses any `from` when creating a subscription, from=0 included; attaching with from=0 still works', async () => {
    for (const from of ['0', '3']) {
      const res = await request(`${node.url}/v1/subscriptions?from=${from}`, '"SELECT id FROM todo WHERE done = 0"', auth)
      expect(res.status, `from=${from}`).toBe(400)
      expect(await res.json()).toEqual({ error: 'a `from` query param was supplied, but no existing subscription found' })
    }
    const abort = new AbortController()
    try {
      const created = await fetch(node.url + '/v1/subscriptions', { method: 'POST', headers: auth, body: '"SELECT title FROM todo"', signal: abort.signal })
      expect(created.status).toBe(200)
      const attached = await fetch(node.url + '/v1/subscriptions?from=0', { method: 'POST', headers: auth, body: '"SELECT title FROM todo"', signal: abort.signal })
      expect(attached.status).toBe(200)
      expect(attached.headers.get('corro-query-id')).toBe(created.headers.get('corro-query-id'))
    } finally { abort.abort() }
  })

  it('/v1/transactions answers bad JSON and a non-array body in the ExecResponse shape', async () => {
    for (const body of ['[["INSERT INTO todo', '{not json', '{"a":1}', '"INSERT INTO todo (id) VALUES (5)"', 'null', '[]']) {
      const res = await request(node.url + '/v1/transactions', body, auth)
      expect(res.status, body).toBe(400)
      const j = await res.json() as Record<string, unknown>
      expect(Object.keys(j).sort(), body).toEqual(['actor_id', 'results', 'time', 'version'])
      expect(j.version, body).toBeNull()
      expect(j.actor_id, body).toMatch(/^[0-9a-f]{32}$/)
      expect(typeof j.time, body).toBe('number')
      const results = j.results as Array<Record<string, unknown>>
      expect(results.length, body).toBe(1)
      expect(typeof results[0]?.error, body).toBe('string')
    }
    expect(await rows(node, 'SELECT count(*) FROM todo', auth)).toEqual([[1]])
  })
})

describe('[api] config spellings, read by the real config loader', () => {
  it('[api.authorization] bearer-token protects the API like [api.authz]', async () => {
    const node = await startFromToml('[api.authorization]\nbearer-token = "tok"')
    try {
      expect(node.agent.config.api.bearerToken).toBe('tok')
      expect((await request(node.url + '/v1/health')).status).toBe(401)
      expect((await request(node.url + '/v1/queries', '"SELECT 1"', { authorization: 'Bearer tok' })).status).toBe(200)
    } finally { await node.close() }
  })

  it('accepts every Corrosion spelling of the bearer token and refuses two that disagree', () => {
    for (const text of ['[api.authz]\nbearer-token = "t"', '[api.authz]\nbearer = "t"', '[api.authorization]\nbearer-token = "t"', '[api.authorization]\nbearer = "t"',
      '[api.authz]\nbearer-token = "t"\n[api.authorization]\nbearer = "t"']) {
      expect(loadConfig({ text, env: {} }).api.bearerToken, text).toBe('t')
    }
    expect(loadConfig({ env: { PATINA_API__AUTHORIZATION__BEARER: 'e' } }).api.bearerToken).toBe('e')
    for (const text of ['[api.authz]\nbearer-token = "a"\n[api.authorization]\nbearer-token = "b"', '[api.authorization]\nbearer-token = "a"\nbearer = "b"']) {
      let err: { name?: string; key?: string; message?: string } = {}
      try { loadConfig({ text, env: {} }) } catch (e) { err = e as typeof err }
      expect(err.name, text).toBe('ConfigError')
      expect(err.message, text).toMatch(/conflicts with api\.(authz|authorization)\.bearer(-token)? .*both spellings of api\.authz\.bearer-token are set, to different values/)
    }
    // A later source still overrides an earlier one: that is not a conflict.
    expect(loadConfig({ text: '[api.authorization]\nbearer = "file"', env: { PATINA_API__AUTHZ__BEARER_TOKEN: 'env' } }).api.bearerToken).toBe('env')
  })

  it('reads api.endpoint_name (default: none)', () => {
    expect(loadConfig({ env: {} }).api.endpointName).toBeNull()
    expect(loadConfig({ text: '[api]\nendpoint_name = "n1"', env: {} }).api.endpointName).toBe('n1')
    expect(loadConfig({ env: { PATINA_API__ENDPOINT_NAME: 'n2' } }).api.endpointName).toBe('n2')
  })
})

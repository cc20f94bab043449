import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig } from '../../src/config.ts'
import { createAgent, type Agent } from '../../src/agent.ts'
import { createLogger } from '../../src/logger.ts'
import { createMetrics } from '../../src/metrics.ts'

/** Starts `n` agents in this process over real QUIC on 127.0.0.1, each bootstrapping from the first. */
export async function startAgents (n: number, schema: string, extra: Record<string, unknown> = {}): Promise<{ agents: Agent[]; dir: string; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'patina-agents-'))
  const schemaPath = join(dir, 'schema.sql')
  writeFileSync(schemaPath, schema)
  const agents: Agent[] = []
  const close = async (): Promise<void> => {
    await Promise.all(agents.map(async a => { await a.stop().catch(() => {}) }))
    rmSync(dir, { recursive: true, force: true })
  }
  try {
    for (let i = 0; i < n; i++) {
      const first = agents[0]
      const config = loadConfig({
        env: {},
        overrides: {
          'db.path': join(dir, `n${i}`, 'patina.db'),
          'db.schema_paths': [schemaPath],
          'api.addr': '127.0.0.1:0',
          'gossip.addr': '127.0.0.1:0',
          'gossip.bootstrap': first !== undefined ? [first.listening.gossip[0] ?? ''] : [],
          'admin.path': join(dir, `n${i}`, 'admin.sock'),
          ...extra
        }
      })
      const agent = await createAgent({
        config,
        logger: createLogger({ format: 'json', level: process.env.PATINA_TEST_LOG ?? 'silent', base: { node: `n${i}` } }),
        metrics: createMetrics(),
        swimPreset: 'local',
        syncIntervalMs: { min: 200, max: 500 }
      })
      agents.push(agent)
      await agent.start()
    }
  } catch (err) {
    await close()
    throw err
  }
  return { agents, dir, close }
}

/** POSTs JSON to an agent's API. */
export async function post (agent: Agent, path: string, body: unknown, signal?: AbortSignal): Promise<Response> {
  return await fetch(`http://${agent.listening.api[0] ?? ''}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), ...(signal !== undefined ? { signal } : {}) })
}

/** Polls until `check` returns a value, or fails after `timeoutMs`. */
export async function eventually<T> (check: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  let last: unknown
  for (;;) {
    try {
      const v = await check()
      if (v !== undefined) return v
    } catch (err) { last = err }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last !== undefined ? `: ${(last as Error).message}` : ''}`)
    await new Promise(resolve => setTimeout(resolve, 50))
  }
}

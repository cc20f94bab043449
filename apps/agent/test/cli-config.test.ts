import { describe, it, expect } from 'vitest'
import { createServer } from 'node:http'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runPatina } from './support/cli.ts'

describe('patina CLI without a node', () => {
  it('--help on the program and on every command', async () => {
    const top = await runPatina(['--help'])
    expect(top.code).toBe(0)
    for (const cmd of ['agent', 'exec', 'query', 'subscribe', 'cluster', 'sync', 'reload', 'backup', 'restore', 'template', 'keygen']) expect(top.stdout).toContain(cmd)
    const sub = await runPatina(['cluster', 'members', '--help'])
    expect(sub.code).toBe(0)
    expect(sub.stdout).toMatch(/--json/)
  })

  it('invalid config: one message naming the key, exit code 2', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-cli-'))
    const file = join(dir, 'bad.toml')
    writeFileSync(file, '[gossip]\naddr = "127.0.0.1"\n')
    const r = await runPatina(['agent', '-c', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/invalid configuration: gossip\.addr: expected host:port/)
    const env = await runPatina(['agent'], { env: { PATINA_GOSSIP__CLUSTER_ID: 'abc' }, cwd: dir })
    expect(env.code).toBe(2)
    expect(env.stderr).toMatch(/gossip\.cluster_id/)
    const unknown = await runPatina(['agent', '-c', join(dir, 'missing.toml')])
    expect(unknown.code).toBe(2)
    expect(unknown.stderr).toMatch(/cannot read config file/)
  })

  it('admin commands say clearly that no node is running', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-cli-'))
    const r = await runPatina(['--admin-path', join(dir, 'admin.sock'), 'cluster', 'members'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/cannot reach the node's admin socket .* is the node running\?/)
    const q = await runPatina(['--api-addr', '127.0.0.1:1', 'query', 'SELECT 1'])
    expect(q.code).toBe(1)
    expect(q.stderr).toMatch(/cannot reach the node's API/)
  })

  it('query and exec send --timeout as the API\'s ?timeout= parameter; a bad value is a usage error', async () => {
    const urls: string[] = []
    const server = createServer((req, res) => {
      urls.push(req.url ?? '')
      req.resume()
      req.on('end', () => {
        if ((req.url ?? '').startsWith('/v1/queries')) {
          res.setHeader('content-type', 'application/x-ndjson')
          res.end('{"columns":["a"]}\n{"row":[1,[1]]}\n{"eoq":{"time":0.0}}\n')
        } else {
          res.setHeader('content-type', 'application/json')
          res.end('{"results":[{"rows_affected":1,"time":0.0}],"time":0.0,"version":1}')
        }
      })
    })
    await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
    try {
      const addr = `127.0.0.1:${(server.address() as { port: number }).port}`
      const q = await runPatina(['--api-addr', addr, 'query', 'SELECT 1 AS a', '--timeout', '7'])
      expect(q.code, q.stderr).toBe(0)
      expect(q.stdout).toBe('1\n')
      const e = await runPatina(['--api-addr', addr, 'exec', 'DELETE FROM t', '--timeout', '0'])
      expect(e.code, e.stderr).toBe(0)
      const plain = await runPatina(['--api-addr', addr, 'query', 'SELECT 1 AS a'])
      expect(plain.code, plain.stderr).toBe(0)
      expect(urls).toEqual(['/v1/queries?timeout=7', '/v1/transactions?timeout=0', '/v1/queries'])
      const bad = await runPatina(['--api-addr', addr, 'query', 'SELECT 1', '--timeout', 'soon'])
      expect(bad.code).toBe(2)
      expect(bad.stderr).toMatch(/--timeout.*whole number of seconds/)
      expect(urls).toHaveLength(3)
    } finally {
      server.close()
    }
  })
})

/**
 * Settings that are not (fully) implemented, through the real config loader and `patina agent`:
 * security settings refuse to start, ignored settings are named in one warning, and the PG
 * listener's `readonly` and server TLS are applied.
 */
import { describe, it, expect, afterEach } from 'vitest'
import { spawn, execFileSync, type ChildProcess } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import pg from 'pg'
import { loadConfig } from '../src/config.ts'
import { runPatina } from './support/cli.ts'

const BIN = fileURLToPath(new URL('../src/bin.ts', import.meta.url))

function hasPsql (): boolean {
  try { execFileSync('psql', ['--version'], { stdio: 'ignore' }); return true } catch { return false }
}

function hasOpenssl (): boolean {
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }); return true } catch { return false }
}

/** A fresh directory with `config.toml` = base sections (ports 0) + `extra`; returns the file. */
function configFile (extra: string, options: { pg?: string; db?: string } = {}): { dir: string; file: string } {
  const dir = mkdtempSync(join(tmpdir(), 'patina-cfgstart-'))
  writeFileSync(join(dir, 'schema.sql'), 'CREATE TABLE note (id INTEGER NOT NULL PRIMARY KEY, body TEXT);\n')
  const text = `[db]
path = "${join(dir, 'data', 'p.db')}"
schema_paths = ["${join(dir, 'schema.sql')}"]
${options.db ?? ''}

[api]
addr = "127.0.0.1:0"

${options.pg ?? ''}

[gossip]
addr = "127.0.0.1:0"

${extra}
`
  const file = join(dir, 'config.toml')
  writeFileSync(file, text)
  return { dir, file }
}

const running: ChildProcess[] = []
afterEach(() => { for (const c of running.splice(0)) c.kill('SIGKILL') })

/** Starts `patina agent --json`; resolves once it printed where it listens. */
async function startAgent (file: string): Promise<{ child: ChildProcess; listening: { api: string[]; pg?: string }; stderr: () => string; stop: () => Promise<void> }> {
  const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', BIN, 'agent', '-c', file, '--json'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PATINA_SWIM_PRESET: 'local' } })
  running.push(child)
  let out = ''
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  const listening = await new Promise<{ api: string[]; pg?: string }>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`agent did not start; stderr: ${err}`)) }, 30_000)
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString()
      const nl = out.indexOf('\n')
      if (nl >= 0) { clearTimeout(timer); resolve(JSON.parse(out.slice(0, nl)) as { api: string[]; pg?: string }) }
    })
    child.on('exit', code => { clearTimeout(timer); reject(new Error(`agent exited with ${code}; stderr: ${err}`)) })
  })
  return {
    child,
    listening,
    stderr: () => err,
    stop: async () => {
      const exited = new Promise(resolve => child.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
  }
}

describe('config keys that would silently weaken security refuse to start', () => {
  it('[api.pg.tls] verify_client = true (mTLS is not implemented): exit 2 naming the key', async () => {
    const { file } = configFile('', { pg: '[[api.pg]]\naddr = "127.0.0.1:0"\nreadonly = true\n\n[api.pg.tls]\ncert_file = "/nope/cert.pem"\nkey_file = "/nope/key.pem"\nverify_client = true\n' })
    const r = await runPatina(['agent', '-c', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/^patina: invalid configuration: api\.pg\.tls\.verify_client: client certificate verification \(mTLS\) for the PostgreSQL endpoint is not supported; the listener would otherwise accept clients without a certificate/)
    expect(r.stdout).toBe('')
  })

  it('[api.pg.tls] with a cert but no key, or a missing file: exit 2', async () => {
    const { file } = configFile('', { pg: '[api.pg]\naddr = "127.0.0.1:0"\n\n[api.pg.tls]\ncert_file = "/nope/cert.pem"\n' })
    const r = await runPatina(['agent', '-c', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/api\.pg\.tls\.key_file: TLS for the PostgreSQL endpoint needs both cert_file and key_file; with only one the listener would be plaintext/)
    const missing = configFile('', { pg: '[api.pg]\naddr = "127.0.0.1:0"\n\n[api.pg.tls]\ncert_file = "/nope/cert.pem"\nkey_file = "/nope/key.pem"\n' })
    const m = await runPatina(['agent', '-c', missing.file])
    expect(m.code).toBe(2)
    expect(m.stderr).toMatch(/api\.pg\.tls\.cert_file: no such file: \/nope\/cert\.pem/)
  })

  it('[gossip.tls] (file or environment): exit 2 saying why and what to use instead', async () => {
    const { file, dir } = configFile('[gossip.tls]\ncert_file = "/etc/c.pem"\nkey_file = "/etc/k.pem"\nca_file = "/etc/ca.pem"\n')
    const r = await runPatina(['agent', '-c', file])
    expect(r.code).toBe(2)
    expect(r.stderr).toMatch(/invalid configuration: gossip\.tls\.cert_file: TLS certificates for gossip are not supported: .*peers join without the certificates.*gossip\.secret/)
    const nested = configFile('[gossip.tls.client]\ncert_file = "/etc/c.pem"\n')
    expect((await runPatina(['agent', '-c', nested.file])).stderr).toMatch(/gossip\.tls\.client\.cert_file: TLS certificates for gossip are not supported/)
    const env = await runPatina(['agent'], { env: { PATINA_GOSSIP__TLS__INSECURE: 'true' }, cwd: dir })
    expect(env.code).toBe(2)
    expect(env.stderr).toMatch(/gossip\.tls\.insecure: TLS certificates for gossip are not supported/)
  })
})

describe('ignored keys', () => {
  it('the loader lists the ignored keys that are set, and only those', () => {
    expect(loadConfig({ text: '[db]\npath = "/tmp/x/p.db"\n', env: {} }).ignoredKeys).toEqual([])
    const c = loadConfig({
      text: '[db]\npath = "/tmp/x/p.db"\ncache_size_kib = -1024\n[gossip]\nplaintext = true\nmax_mtu = 1400\nidle_timeout_secs = 10\n[gossip.compression]\nenabled = true\n[perf]\napply_queue_len = 10\n[reaper.tables.note]\nretention = "7d"\n[consul.client.tls]\nca_file = "/x"\n[telemetry]\nopen-telemetry = "from_env"\n',
      env: { PATINA_GOSSIP__DISABLE_GSO: 'true' }
    })
    expect(c.ignoredKeys).toEqual(['db.cache_size_kib', 'gossip.plaintext', 'gossip.max_mtu', 'gossip.idle_timeout_secs', 'gossip.compression.enabled', 'perf.apply_queue_len', 'reaper.tables.note.retention', 'consul.client.tls.ca_file', 'telemetry.open-telemetry', 'gossip.disable_gso'])
    // api.pg.readonly is read now (Corrosion's [[api.pg]] spelling too)
    const p = loadConfig({ text: '[[api.pg]]\naddr = "127.0.0.1:6000"\nreadonly = true\n', env: {} })
    expect(p.api.pgReadonly).toBe(true)
    expect(p.api.pgTls).toBeNull()
    expect(p.ignoredKeys).toEqual([])
  })

  it('patina agent starts and logs one warning naming them (names only, no values)', async () => {
    const { file } = configFile('[perf]\napply_queue_len = 10\n\n[consul.client]\naddress = "127.0.0.1:8501"\n', { db: 'cache_size_kib = -2048' })
    const a = await startAgent(file)
    try {
      await new Promise(resolve => setTimeout(resolve, 200))
      const warnings = a.stderr().split('\n').filter(l => l.includes('ignored'))
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/WARN/)
      expect(warnings[0]).toMatch(/configuration keys accepted for Corrosion compatibility but ignored/)
      expect(warnings[0]).toContain('db.cache_size_kib')
      expect(warnings[0]).toContain('perf.apply_queue_len')
      expect(warnings[0]).toContain('consul.client.address')
      expect(warnings[0]).not.toContain('8501')
      expect(warnings[0]).not.toContain('-2048')
    } finally {
      await a.stop()
    }
  }, 60_000)
})

describe('PG listener settings applied by patina agent', () => {
  it('[[api.pg]] readonly = true: reads work, writes fail with 25006', async () => {
    const { file } = configFile('', { pg: '[[api.pg]]\naddr = "127.0.0.1:0"\nreadonly = true\n' })
    const a = await startAgent(file)
    try {
      expect(a.stderr()).not.toMatch(/ignored/)
      const [host, port] = a.listening.pg!.split(':') as [string, string]
      const client = new pg.Client({ host, port: Number(port), user: 'patina', database: 'patina' })
      await client.connect()
      try {
        await expect(client.query("INSERT INTO note (id, body) VALUES (1, 'x')")).rejects.toMatchObject({ code: '25006', message: 'cannot execute INSERT in a read-only transaction' })
        expect((await client.query('SELECT count(*) AS n FROM note')).rows).toEqual([{ n: '0' }])
      } finally {
        await client.end()
      }
      // The HTTP API of the same node still writes: readonly is the PG listener's.
      const res = await fetch(`http://${a.listening.api[0]}/v1/transactions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(["INSERT INTO note (id, body) VALUES (1, 'http')"]) })
      expect(res.status).toBe(200)
    } finally {
      await a.stop()
    }
  }, 60_000)

  it.skipIf(!hasOpenssl())('[api.pg.tls] cert_file / key_file: sslmode=require connects over TLS', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-pgtls-'))
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
    const { file } = configFile('', { pg: `[api.pg]\naddr = "127.0.0.1:0"\n\n[api.pg.tls]\ncert_file = "${join(dir, 'cert.pem')}"\nkey_file = "${join(dir, 'key.pem')}"\n` })
    const a = await startAgent(file)
    try {
      const [host, port] = a.listening.pg!.split(':') as [string, string]
      const client = new pg.Client({ host, port: Number(port), user: 'patina', database: 'patina', ssl: { rejectUnauthorized: false } })
      await client.connect()
      try {
        expect(((client as unknown as { connection: { stream: { encrypted?: boolean } } }).connection.stream).encrypted).toBe(true)
        expect((await client.query("INSERT INTO note (id, body) VALUES (2, 'tls')")).rowCount).toBe(1)
      } finally {
        await client.end()
      }
      if (hasPsql()) {
        const out = execFileSync('psql', ['-X', '-At', `host=${host} port=${port} user=patina dbname=patina sslmode=require`, '-c', 'SELECT body FROM note'], { encoding: 'utf8', env: { ...process.env, PGCONNECT_TIMEOUT: '5' }, timeout: 20_000 })
        expect(out).toBe('tls\n')
      }
    } finally {
      await a.stop()
    }
  }, 60_000)
})

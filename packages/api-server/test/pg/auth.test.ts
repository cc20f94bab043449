import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rawConnect } from './support/raw-client.ts'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

async function tryConnect (f: PgFixture, user: string, password: string, ssl?: pg.ClientConfig['ssl']): Promise<string> {
  const c = new pg.Client({ host: f.host, port: f.port, user, password, database: 'patina', ...(ssl !== undefined ? { ssl } : {}) })
  try {
    await c.connect()
    const r = await c.query('SELECT 1 AS ok')
    return String(r.rows[0].ok)
  } finally {
    await c.end().catch(() => {})
  }
}

describe.each(['scram-sha-256', 'password'] as const)('%s authentication', (method) => {
  let f: PgFixture
  beforeAll(async () => { f = await startPg({ auth: { user: 'app', password: 'correct horse', method } }) })
  afterAll(async () => { await f.stop() })

  it('accepts the right password', async () => {
    expect(await tryConnect(f, 'app', 'correct horse')).toBe('1')
  })

  it('refuses a wrong password with 28P01', async () => {
    await expect(tryConnect(f, 'app', 'battery staple')).rejects.toMatchObject({ code: '28P01' })
  })

  it('refuses another user with 28P01', async () => {
    await expect(tryConnect(f, 'root', 'correct horse')).rejects.toMatchObject({ code: '28P01' })
  })

  it('keeps serving after failed attempts', async () => {
    await expect(tryConnect(f, 'app', 'nope')).rejects.toBeDefined()
    expect(await tryConnect(f, 'app', 'correct horse')).toBe('1')
  })
})

describe('SSL negotiation', () => {
  it('answers N to SSLRequest without TLS and then accepts a plaintext startup', async () => {
    const f = await startPg()
    try {
      const c = await rawConnect(f.port)
      const req = Buffer.alloc(8)
      req.writeInt32BE(8)
      req.writeInt32BE(80877103, 4)
      c.send(req)
      const deadline = Date.now() + 5000
      while (c.received().length < 1 && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve))
      expect(c.received().toString()).toBe('N')
      c.close()
      // pg with ssl: false still works; pg requiring ssl is refused cleanly.
      expect(await tryConnect(f, 'x', '')).toBe('1')
      await expect(tryConnect(f, 'x', '', { rejectUnauthorized: false })).rejects.toThrow(/does not support SSL/)
    } finally {
      await f.stop()
    }
  })

  let openssl = true
  try { execFileSync('openssl', ['version'], { stdio: 'ignore' }) } catch { openssl = false }

  it.skipIf(!openssl)('upgrades to TLS when configured', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-pg-tls-'))
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' })
      const f = await startPg({ tls: { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, auth: { password: 'pw' } })
      try {
        expect(await tryConnect(f, 'x', 'pw', { rejectUnauthorized: false })).toBe('1')
        expect(await tryConnect(f, 'x', 'pw')).toBe('1')
      } finally {
        await f.stop()
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

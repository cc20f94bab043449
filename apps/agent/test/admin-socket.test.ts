import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync } from 'node:fs'
import { createConnection } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createAdminServer, type AdminServer } from '../src/admin-server.ts'
import { adminRequest } from '../src/admin-client.ts'
import { encodeFrame, FrameDecoder } from '../src/admin-frame.ts'

const servers: AdminServer[] = []
afterEach(async () => { for (const s of servers.splice(0)) await s.stop() })

async function rawExchange (path: string, bytes: Buffer): Promise<unknown[]> {
  return await new Promise((resolve, reject) => {
    const s = createConnection(path)
    const dec = new FrameDecoder()
    const got: unknown[] = []
    s.on('connect', () => { s.write(bytes) })
    s.on('data', (c: Buffer) => {
      got.push(...dec.push(c))
      if (got.some(f => f === 'Success' || (typeof f === 'object' && f !== null && 'Error' in f))) { s.destroy(); resolve(got) }
    })
    s.on('error', reject)
  })
}

describe('admin socket', () => {
  it('round-trips commands with Json values then Success, and reports errors', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'patina-adm-')), 'admin.sock')
    const server = createAdminServer({
      path,
      handler: (cmd) => {
        if (cmd === 'Ping') return [{ pong: true }]
        if (typeof cmd === 'object' && cmd.Cluster === 'Members') return [[{ id: 'a' }], { more: 1 }]
        throw new Error(`unknown command ${JSON.stringify(cmd)}`)
      }
    })
    servers.push(server)
    await server.start()
    expect(await adminRequest(path, 'Ping')).toEqual([{ pong: true }])
    expect(await adminRequest(path, { Cluster: 'Members' })).toEqual([[{ id: 'a' }], { more: 1 }])
    await expect(adminRequest(path, 'Nope')).rejects.toMatchObject({ name: 'AdminCommandError', message: 'unknown command "Nope"' })
  })

  it('survives malformed frames: bad JSON, wrong shapes, oversized lengths', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'patina-adm-')), 'admin.sock')
    const server = createAdminServer({ path, handler: () => [1] })
    servers.push(server)
    await server.start()
    const badJson = Buffer.concat([Buffer.from([0, 0, 0, 3]), Buffer.from('{x]')])
    expect(await rawExchange(path, badJson)).toEqual([{ Error: { msg: expect.stringMatching(/not valid JSON/) } }])
    expect(await rawExchange(path, encodeFrame(42))).toEqual([{ Error: { msg: expect.stringMatching(/string or an object/) } }])
    expect(await rawExchange(path, Buffer.from([0xff, 0xff, 0xff, 0xff]))).toEqual([{ Error: { msg: expect.stringMatching(/exceeds/) } }])
    // still serving
    expect(await adminRequest(path, 'Ping')).toEqual([1])
  })

  it('says clearly when no node listens, and refuses a socket already in use', async () => {
    const path = join(mkdtempSync(join(tmpdir(), 'patina-adm-')), 'admin.sock')
    await expect(adminRequest(path, 'Ping')).rejects.toMatchObject({ name: 'AdminUnavailableError', message: expect.stringMatching(/is the node running/) })
    const a = createAdminServer({ path, handler: () => [] })
    servers.push(a)
    await a.start()
    const b = createAdminServer({ path, handler: () => [] })
    await expect(b.start()).rejects.toMatchObject({ name: 'AdminProtocolError', message: expect.stringMatching(/in use/) })
  })
})

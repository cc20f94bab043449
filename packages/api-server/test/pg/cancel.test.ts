import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorFields, i32, queryMsg, rawConnect, rawStartup } from './support/raw-client.ts'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

describe('CancelRequest', () => {
  let f: PgFixture
  beforeAll(async () => { f = await startPg() })
  afterAll(async () => { await f.stop() })

  it('cancels a query that is streaming to a slow reader with 57014, and the connection goes on', async () => {
    const c = await rawStartup(f.port)
    // BackendKeyData came with the startup; fetch it from the raw bytes.
    const bytes = c.received()
    const at = bytes.indexOf(Buffer.from([0x4b, 0, 0, 0, 12]))
    expect(at).toBeGreaterThanOrEqual(0)
    const pid = bytes.readInt32BE(at + 5)
    const secret = bytes.readInt32BE(at + 9)

    c.socket.pause() // stop reading so the server blocks on a full socket
    c.send(queryMsg("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 200000) SELECT i, printf('%0200d', i) FROM s"))
    // Poll (with a deadline) until our read buffer is full: the server is then streaming or blocked.
    const deadline = Date.now() + 10_000
    while (c.socket.readableLength < c.socket.readableHighWaterMark && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20))
    }

    const k = await rawConnect(f.port)
    k.send(Buffer.concat([i32(16), i32(80877102), i32(pid), i32(secret)]))
    await k.closed

    c.socket.resume()
    const msgs = await c.readUntil('Z', 20_000)
    const err = msgs.find((m) => m.type === 'E')
    expect(err).toBeDefined()
    expect(errorFields(err!.body)).toMatchObject({ C: '57014', M: 'canceling statement due to user request' })
    expect(msgs.filter((m) => m.type === 'D').length).toBeLessThan(200_000)

    c.send(queryMsg('SELECT 7 AS seven'))
    const after = await c.readUntil('Z')
    expect(after.map((m) => m.type).join('')).toBe('TDCZ')
    c.close()
  })

  it('ignores a CancelRequest with the wrong secret', async () => {
    const k = await rawConnect(f.port)
    k.send(Buffer.concat([i32(16), i32(80877102), i32(process.pid), i32(12345)]))
    await k.closed
    const c = await rawStartup(f.port)
    c.send(queryMsg('SELECT 1'))
    expect((await c.readUntil('Z')).map((m) => m.type).join('')).toBe('TDCZ')
    c.close()
  })
})

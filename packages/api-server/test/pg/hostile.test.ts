import fc from 'fast-check'
import pg from 'pg'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { errorFields, frame, i32, rawConnect, rawStartup, startupPacket } from './support/raw-client.ts'
import { startPg } from './support/pg-fixture.ts'
import type { PgFixture } from './support/pg-fixture.ts'

describe('hostile clients', () => {
  let f: PgFixture
  beforeAll(async () => { f = await startPg({ maxMessageSize: 1024 * 1024 }) })
  afterAll(async () => { await f.stop() })

  const stillServes = async (): Promise<void> => {
    const c = new pg.Client({ host: f.host, port: f.port, user: 'patina', database: 'patina' })
    await c.connect()
    expect((await c.query('SELECT 2 AS two')).rows).toEqual([{ two: '2' }])
    await c.end()
  }

  it('closes the connection on garbage instead of a startup packet', async () => {
    const c = await rawConnect(f.port)
    c.send(Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'))
    await c.closed
    await stillServes()
  })

  it('closes the connection with 08P01 on an unknown message type', async () => {
    const c = await rawStartup(f.port)
    c.send(frame('!', 'boom'))
    const msgs = await c.readUntil('E')
    expect(errorFields((msgs.at(-1) as { body: Buffer }).body)).toMatchObject({ S: 'FATAL', C: '08P01' })
    await c.closed
    await stillServes()
  })

  it('closes the connection on an oversized or negative length', async () => {
    const a = await rawStartup(f.port)
    a.send(Buffer.concat([Buffer.from('Q'), i32(0x7fffffff)]))
    await a.closed
    const b = await rawStartup(f.port)
    b.send(Buffer.concat([Buffer.from('Q'), i32(-5)]))
    await b.closed
    await stillServes()
  })

  it('rejects a truncated Bind as a protocol violation', async () => {
    const c = await rawStartup(f.port)
    c.send(frame('B', 'portal', Buffer.from([0, 1])))
    const msgs = await c.readUntil('E')
    expect(errorFields((msgs.at(-1) as { body: Buffer }).body).C).toBe('08P01')
    await c.closed
    await stillServes()
  })

  it('survives random bytes before and after a valid startup (seeded; fast-check prints the seed)', async () => {
    await fc.assert(fc.asyncProperty(fc.boolean(), fc.uint8Array({ minLength: 1, maxLength: 300 }), async (afterStartup, bytes) => {
      const c = afterStartup ? await rawStartup(f.port) : await rawConnect(f.port)
      c.send(Buffer.from(bytes))
      // Either the server answers and waits for more, or it closes; both are fine. Then we hang up.
      c.close()
      await c.closed
    }), { numRuns: 40 })
    await stillServes()
  })

  it('survives well-framed messages with random bodies (seeded; fast-check prints the seed)', async () => {
    const typed = fc.tuple(fc.constantFrom('P', 'B', 'D', 'E', 'S', 'C', 'H', 'Q', 'd', 'c', 'f', 'F'), fc.uint8Array({ maxLength: 64 }))
      .map(([type, body]) => frame(type, Buffer.from(body)))
    await fc.assert(fc.asyncProperty(fc.array(typed, { minLength: 1, maxLength: 12 }), async (frames) => {
      const c = await rawStartup(f.port)
      c.send(...frames, frame('S'))
      c.close()
      await c.closed
    }), { numRuns: 40 })
    await stillServes()
  })

  it('rejects a startup packet with a bad protocol version', async () => {
    const c = await rawConnect(f.port)
    const pkt = startupPacket({ user: 'x' })
    pkt.writeInt32BE(2 << 16, 4)
    c.send(pkt)
    const msgs = await c.readUntil('E')
    expect(errorFields((msgs.at(-1) as { body: Buffer }).body)).toMatchObject({ C: '08P01' })
    await c.closed
  })

  it('closes a connection that never finishes startup', async () => {
    const slow = await startPg({ startupTimeoutMs: 200 })
    try {
      const c = await rawConnect(slow.port)
      c.send(startupPacket({ user: 'x' }).subarray(0, 6))
      await c.closed
      expect(c.received().length).toBeGreaterThan(0)
    } finally {
      await slow.stop()
    }
  })

  it('closes open connections on stop', async () => {
    const other = await startPg()
    const c = await rawStartup(other.port)
    await other.stop()
    await c.closed
  })
})

import pg from 'pg'
import { describe, expect, it } from 'vitest'
import { createPgServer } from '../../src/pg/index.ts'
import { createSqliteApiStore } from '../support/sqlite-store.ts'

describe('pg server lifecycle', () => {
  it('rejects a malformed address', () => {
    const store = createSqliteApiStore({ path: ':memory:' })
    try {
      expect(() => createPgServer({ store, addr: 'localhost' })).toThrow(expect.objectContaining({ name: 'PgConfigError' }))
      expect(() => createPgServer({ store, addr: '127.0.0.1:99999' })).toThrow(expect.objectContaining({ name: 'PgConfigError' }))
      expect(() => createPgServer({ store, tls: { key: 'not a key', cert: 'not a cert' } })).toThrow(expect.objectContaining({ name: 'PgConfigError' }))
    } finally {
      store.close()
    }
  })

  it('refuses a second start, reports connections, and restarts after stop', async () => {
    const store = createSqliteApiStore({ path: ':memory:', schema: 'CREATE TABLE t (id INTEGER PRIMARY KEY)' })
    const server = createPgServer({ store, addr: '127.0.0.1:0' })
    try {
      const first = await server.start()
      expect(first.host).toBe('127.0.0.1')
      await expect(server.start()).rejects.toMatchObject({ name: 'PgServerStateError' })
      const c = new pg.Client({ host: first.host, port: first.port, user: 'u', database: 'd' })
      c.on('error', () => {}) // the server going away is what this test does
      await c.connect()
      expect(server.connections).toBe(1)
      await server.stop()
      await expect(c.query('SELECT 1')).rejects.toBeDefined()
      await c.end().catch(() => {})
      const second = await server.start()
      const d = new pg.Client({ host: second.host, port: second.port, user: 'u', database: 'd' })
      await d.connect()
      expect((await d.query("SELECT count(*) AS n FROM pg_catalog.pg_class WHERE relname = 't'")).rows).toEqual([{ n: '1' }])
      await d.end()
    } finally {
      await server.stop()
      store.close()
    }
  })

  it('refuses connections beyond maxConnections with 53300', async () => {
    const store = createSqliteApiStore({ path: ':memory:' })
    const server = createPgServer({ store, addr: '127.0.0.1:0', maxConnections: 1 })
    try {
      const { host, port } = await server.start()
      const a = new pg.Client({ host, port, user: 'u', database: 'd' })
      await a.connect()
      const b = new pg.Client({ host, port, user: 'u', database: 'd' })
      b.on('error', () => {})
      await expect(b.connect()).rejects.toMatchObject({ code: '53300' })
      await a.end()
    } finally {
      await server.stop()
      store.close()
    }
  })

  it('honours an aborted signal', async () => {
    const store = createSqliteApiStore({ path: ':memory:' })
    const server = createPgServer({ store, addr: '127.0.0.1:0' })
    try {
      await expect(server.start({ signal: AbortSignal.abort() })).rejects.toMatchObject({ name: 'AbortError' })
    } finally {
      await server.stop()
      store.close()
    }
  })
})

import { describe, it, expect } from 'vitest'
import { openSync, writeSync, closeSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { startAgents, post } from './support/in-process.ts'

describe('fatal storage errors', () => {
  it('a corrupt database file found while running stops the node with a clear error', async () => {
    const { agents, dir, close } = await startAgents(1, 'CREATE TABLE big (id INTEGER NOT NULL PRIMARY KEY, v TEXT);')
    try {
      const a = agents[0]!
      // enough rows that most pages are not in SQLite's page cache
      for (let t = 0; t < 5; t++) {
        await a.transaction([{ sql: `WITH RECURSIVE s(x) AS (SELECT ${t * 20_000 + 1} UNION ALL SELECT x + 1 FROM s WHERE x < ${(t + 1) * 20_000}) INSERT INTO big SELECT x, printf('%0200d', x) FROM s` }])
      }
      await a.backup(join(dir, 'checkpoint.db')) // forces the WAL content through a read; keeps the test honest about the file
      const file = join(dir, 'n0', 'patina.db')
      const size = statSync(file).size
      // overwrite the middle of the file with garbage
      const fd = openSync(file, 'r+')
      writeSync(fd, Buffer.alloc(Math.min(1 << 20, Math.floor(size / 2)), 0xa5), 0, undefined, Math.floor(size / 4))
      closeSync(fd)
      const res = await post(a, '/v1/queries', 'SELECT count(*), sum(length(v)) FROM big WHERE v LIKE \'%7%\'')
      const body = await res.text()
      expect(body).toMatch(/error/)
      const outcome = await Promise.race([a.stopped, new Promise(resolve => { setTimeout(resolve, 20_000, 'still running') })])
      expect(outcome).toMatchObject({ fatal: { name: 'FatalStorageError', message: expect.stringMatching(/fatal storage error \(SQLITE_(CORRUPT|NOTADB)/) } })
    } finally {
      await close()
    }
  })
})

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startPg } from './support/pg-fixture.ts'
import { ensurePsql, runPsql } from './support/psql.ts'
import type { PgFixture } from './support/pg-fixture.ts'

const psql = ensurePsql()
if ('skip' in psql) console.warn(`skipping psql tests: ${psql.skip}`)
const bin = 'path' in psql ? psql.path : ''

describe.skipIf('skip' in psql)('psql', () => {
  let f: PgFixture
  let g: PgFixture
  const conn = (fx: PgFixture, user = 'patina'): string[] => ['-h', fx.host, '-p', String(fx.port), '-U', user, '-d', 'patina']

  beforeAll(async () => {
    f = await startPg()
    g = await startPg({ auth: { user: 'patina', password: 'open sesame' } })
  })
  afterAll(async () => {
    await f.stop()
    await g.stop()
  })

  it('lists tables with \\dt', async () => {
    const r = await runPsql(bin, [...conn(f), '-c', '\\dt'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/List of relations/)
    expect(r.stdout).toMatch(/public \| tags\s+\| table \| patina/)
    expect(r.stdout).toMatch(/public \| todos \| table \| patina/)
    expect(r.stdout).toMatch(/\(2 rows\)/)
  })

  it('describes a table with \\d table', async () => {
    const r = await runPsql(bin, [...conn(f), '-c', '\\d todos', '-c', '\\d tags'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/Table "public\.todos"/)
    expect(r.stdout).toMatch(/ id\s+\| bigint\s+\|\s+\| not null \|/)
    expect(r.stdout).toMatch(/ title\s+\| text\s+\|\s+\| not null \|/)
    expect(r.stdout).toMatch(/ done\s+\| boolean\s+\|\s+\| not null \| 0/)
    expect(r.stdout).toMatch(/ score\s+\| double precision \|/)
    expect(r.stdout).toMatch(/ data\s+\| bytea/)
    expect(r.stdout).toMatch(/"todos_pkey" PRIMARY KEY, btree \(id\)/)
    expect(r.stdout).toMatch(/Referenced by:\n\s+TABLE "tags" CONSTRAINT "tags_todo_id_fkey" FOREIGN KEY \(todo_id\) REFERENCES todos\(id\)/)
    expect(r.stdout).toMatch(/ tag\s+\| character varying\(32\)/)
    expect(r.stdout).toMatch(/"tags_by_tag" btree \(tag\)/)
  })

  it('answers \\d, \\di, \\dn, \\l and \\d of an unknown name', async () => {
    const r = await runPsql(bin, [...conn(f), '-c', '\\d', '-c', '\\di', '-c', '\\dn', '-c', '\\l', '-c', '\\d nosuch'])
    expect(r.stdout).toMatch(/tags_by_tag \| index/)
    expect(r.stdout).toMatch(/List of schemas/)
    expect(r.stdout).toMatch(/List of databases/)
    expect(r.stderr).toMatch(/Did not find any relation named "nosuch"/)
    expect(r.stderr).not.toMatch(/ERROR/)
  })

  it('answers every other describe command without an error', async () => {
    const cmds = ['\\d+ todos', '\\dt+', '\\dv', '\\dm', '\\ds', '\\dE', '\\db', '\\dx', '\\dp', '\\dd', '\\dC', '\\dD', '\\do',
      '\\dy', '\\l+', '\\z todos', '\\dn+', '\\da', '\\dc', '\\des', '\\dF', '\\dg', '\\dL', '\\dRp', '\\dO', '\\drds', '\\df', '\\dT', '\\du', '\\dl']
    const r = await runPsql(bin, [...conn(f), ...cmds.flatMap((c) => ['-c', c])])
    expect(r.stderr).not.toMatch(/ERROR/)
    expect(r.stdout).toMatch(/Table "public\.todos"/)
  })

  it('writes and reads rows, with errors reported and the session continuing', async () => {
    const r = await runPsql(bin, [...conn(f),
      '-c', "INSERT INTO todos (id, title, score, data) VALUES (1, 'write docs', 0.5, x'cafe')",
      '-c', "BEGIN; INSERT INTO todos (id, title) VALUES (2, 'in block'); COMMIT;",
      '-c', 'SELECT id, title, done, score, data FROM todos ORDER BY id',
      '-c', 'SELECT * FROM nosuch',
      '-c', 'UPDATE todos SET done = 1 WHERE id = 2'])
    expect(r.stdout).toMatch(/INSERT 0 1/)
    expect(r.stdout).toMatch(/COMMIT/)
    expect(r.stdout).toMatch(/ 1 \| write docs \| f\s+\|\s+0\.5 \| \\xcafe/)
    expect(r.stdout).toMatch(/ 2 \| in block\s+\| f/)
    expect(r.stdout).toMatch(/UPDATE 1/)
    expect(r.stderr).toMatch(/ERROR:\s+no such table: nosuch/)
  })

  it('loads and exports files with \\copy', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-psql-copy-'))
    try {
      writeFileSync(join(dir, 'in.csv'), 'id,title,done\n100,"comma, inside",t\n101,"quote ""q""",f\n')
      const r = await runPsql(bin, [...conn(f),
        '-c', `\\copy todos (id, title, done) from '${join(dir, 'in.csv')}' csv header`,
        '-c', `\\copy (SELECT id, title, done FROM todos WHERE id >= 100 ORDER BY id) to '${join(dir, 'out.tsv')}'`])
      expect(r.stderr).toBe('')
      expect(r.stdout).toMatch(/COPY 2/)
      expect(readFileSync(join(dir, 'out.tsv'), 'utf8')).toBe('100\tcomma, inside\tt\n101\tquote "q"\tf\n')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('authenticates with SCRAM-SHA-256 and refuses a wrong password with 28P01', async () => {
    const ok = await runPsql(bin, [...conn(g), '-c', 'SELECT 41 + 1 AS answer'], { PGPASSWORD: 'open sesame' })
    expect(ok.stdout).toMatch(/ 42/)
    const bad = await runPsql(bin, [...conn(g), '-c', 'SELECT 1'], { PGPASSWORD: 'wrong' })
    expect(bad.code).not.toBe(0)
    expect(bad.stderr).toMatch(/password authentication failed for user "patina"/)
    const wrongUser = await runPsql(bin, [...conn(g, 'mallory'), '-c', 'SELECT 1'], { PGPASSWORD: 'open sesame' })
    expect(wrongUser.stderr).toMatch(/password authentication failed for user "mallory"/)
  })
})

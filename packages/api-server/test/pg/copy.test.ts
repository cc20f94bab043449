import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { encodeCopyRow, parseCopy, parseCopyCsv, parseCopyText } from '../../src/pg/copy-format.ts'
import { errorFields, frame, queryMsg, rawStartup } from './support/raw-client.ts'
import { startPg } from './support/pg-fixture.ts'
import type { BackendMessage, RawClient } from './support/raw-client.ts'
import type { PgFixture } from './support/pg-fixture.ts'

describe('COPY formats', () => {
  it('parses the statement forms psql and clients send', () => {
    expect(parseCopy('COPY  todos (id, title) FROM STDIN')).toMatchObject({ direction: 'in', table: 'todos', columns: ['id', 'title'], format: 'text', delimiter: '\t', nullString: '\\N' })
    expect(parseCopy("COPY todos FROM STDIN WITH (FORMAT csv, HEADER true, DELIMITER ';')")).toMatchObject({ format: 'csv', header: true, delimiter: ';', nullString: '' })
    expect(parseCopy('COPY public."Todos" FROM STDIN csv header')).toMatchObject({ table: 'Todos', format: 'csv', header: true, delimiter: ',' })
    expect(parseCopy('COPY (SELECT 1) TO STDOUT')).toMatchObject({ direction: 'out', query: 'SELECT 1', table: null })
    expect(() => parseCopy("COPY todos FROM '/etc/passwd'")).toThrow(expect.objectContaining({ name: 'PgUnsupportedError' }))
    expect(() => parseCopy('COPY todos FROM STDIN (FORMAT binary)')).toThrow(/binary/)
    expect(() => parseCopy('COPY todos FROM STDIN (FREEZE)')).toThrow(/FREEZE/)
  })

  it('splits text format with escapes and NULLs', () => {
    expect(parseCopyText('1\ta\\tb\n2\t\\N\n3\t\n\\.\nignored\n', { delimiter: '\t', nullString: '\\N' }))
      .toEqual([['1', 'a\tb'], ['2', null], ['3', '']])
  })

  it('splits CSV with quotes, embedded newlines and NULLs', () => {
    expect(parseCopyCsv('1,"a, ""b""",\n2,"multi\nline",""\r\n', { delimiter: ',', nullString: '', quote: '"', escape: '"' }))
      .toEqual([['1', 'a, "b"', null], ['2', 'multi\nline', '']])
    expect(() => parseCopyCsv('1,"open', { delimiter: ',', nullString: '', quote: '"', escape: '"' })).toThrow(/unterminated/)
  })

  it('round-trips rows through encode and parse', () => {
    const rows = [['a\tb', null, 'c\\d', 'line\nbreak'], ['', 'x,y', '"q"', '\\N']]
    for (const format of ['text', 'csv'] as const) {
      const opts = { format, delimiter: format === 'csv' ? ',' : '\t', nullString: format === 'csv' ? '' : '\\N', quote: '"', escape: '"' }
      const data = rows.map((r) => encodeCopyRow(r, opts)).join('')
      expect(format === 'csv' ? parseCopyCsv(data, opts) : parseCopyText(data, opts)).toEqual(rows)
    }
  })
})

describe('COPY over the wire', () => {
  let f: PgFixture
  let c: RawClient
  const types = (msgs: BackendMessage[]): string => msgs.map((m) => m.type).join('')
  const copyData = (s: string): Buffer => frame('d', Buffer.from(s))
  const copyDone = (): Buffer => frame('c')
  const count = (): number => (f.store.db.prepare('SELECT count(*) AS n FROM todos').get() as { n: number }).n

  beforeAll(async () => {
    f = await startPg()
    c = await rawStartup(f.port)
  })
  afterAll(async () => {
    c.close()
    await f.stop()
  })
  beforeEach(() => { f.store.db.exec('DELETE FROM tags; DELETE FROM todos') })

  it('loads rows in one store transaction and runs the rest of the query string', async () => {
    const before = f.store.version
    c.send(queryMsg('COPY todos (id, title, done, data) FROM STDIN; SELECT count(*) FROM todos'))
    expect(types(await c.readUntil('G'))).toBe('G')
    c.send(copyData('1\tone\tt\t\\\\x0102\n2\ttwo'), copyData('\tf\t\\N\n'), copyDone())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('CTDCZ')
    expect(msgs[0]?.body.toString('utf8', 0, msgs[0].body.length - 1)).toBe('COPY 2')
    expect(f.store.version).toBe(before + 1)
    const rows = f.store.db.prepare('SELECT id, title, done, data FROM todos ORDER BY id').all()
    expect(rows).toEqual([{ id: 1, title: 'one', done: 1, data: Buffer.from([1, 2]) }, { id: 2, title: 'two', done: 0, data: null }])
  })

  it('writes nothing when a row is malformed, and says which line', async () => {
    c.send(queryMsg('COPY todos (id, title) FROM STDIN'))
    await c.readUntil('G')
    c.send(copyData('1\tok\nnot-a-number\tbad\n'), copyDone())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('EZ')
    expect(errorFields(msgs[0]!.body)).toMatchObject({ C: '22P02' })
    expect(errorFields(msgs[0]!.body).M).toMatch(/line 2, column id/)
    c.send(queryMsg('COPY todos (id, title) FROM STDIN'))
    await c.readUntil('G')
    c.send(copyData('1\tok\textra\n'), copyDone())
    expect(errorFields((await c.readUntil('Z'))[0]!.body).C).toBe('22P04')
    expect(count()).toBe(0)
  })

  it('aborts on CopyFail', async () => {
    c.send(queryMsg('COPY todos (id, title) FROM STDIN'))
    await c.readUntil('G')
    c.send(copyData('1\tok\n'), frame('f', 'client gave up'))
    const msgs = await c.readUntil('Z')
    expect(errorFields(msgs[0]!.body)).toMatchObject({ C: '57014', M: 'COPY from stdin failed: client gave up' })
    expect(count()).toBe(0)
  })

  it('buffers COPY inside a transaction block until COMMIT', async () => {
    c.send(queryMsg('BEGIN; COPY todos (id, title) FROM STDIN'))
    await c.readUntil('G')
    c.send(copyData('5\tfive\n'), copyDone())
    const msgs = await c.readUntil('Z')
    expect(msgs.at(-1)?.body.toString()).toBe('T')
    expect(count()).toBe(0)
    c.send(queryMsg('COMMIT'))
    await c.readUntil('Z')
    expect(count()).toBe(1)
  })

  it('refuses an unknown table or column before asking for data', async () => {
    c.send(queryMsg('COPY nosuch FROM STDIN'))
    expect(errorFields((await c.readUntil('Z'))[0]!.body).C).toBe('42P01')
    c.send(queryMsg('COPY todos (nope) FROM STDIN'))
    expect(errorFields((await c.readUntil('Z'))[0]!.body).C).toBe('42703')
  })

  it('streams COPY TO STDOUT', async () => {
    f.store.db.exec("INSERT INTO todos (id, title, score) VALUES (1, 'a\tb', 0.5), (2, 'c', NULL)")
    c.send(queryMsg('COPY todos (id, title, score) TO STDOUT'))
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('HddcCZ')
    expect(msgs.filter((m) => m.type === 'd').map((m) => m.body.toString())).toEqual(['1\ta\\tb\t0.5\n', '2\tc\t\\N\n'])
  })
})

describe('COPY limits', () => {
  it('refuses a payload over maxCopyBytes and keeps the connection', async () => {
    const f = await startPg({ maxCopyBytes: 64 })
    const c = await rawStartup(f.port)
    try {
      c.send(queryMsg('COPY todos (id, title) FROM STDIN'))
      await c.readUntil('G')
      for (let i = 0; i < 10; i++) c.send(frame('d', Buffer.from(`${i}\tsome title that is long\n`)))
      c.send(frame('c'))
      const msgs = await c.readUntil('Z')
      expect(errorFields(msgs[0]!.body)).toMatchObject({ C: '54000' })
      expect(errorFields(msgs[0]!.body).M).toMatch(/exceeds the limit of 64 bytes/)
      c.send(queryMsg('SELECT count(*) FROM todos'))
      const after = await c.readUntil('Z')
      expect(after.map((m) => m.type).join('')).toBe('TDCZ')
    } finally {
      c.close()
      await f.stop()
    }
  })
})

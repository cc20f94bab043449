import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  bindMsg, closeMsg, dataRowBuffers, dataRowValues, describeMsg, errorFields, executeMsg, flushMsg, parseMsg, queryMsg, rawStartup, syncMsg
} from './support/raw-client.ts'
import { startPg } from './support/pg-fixture.ts'
import type { BackendMessage, RawClient } from './support/raw-client.ts'
import type { PgFixture } from './support/pg-fixture.ts'

const types = (msgs: BackendMessage[]): string => msgs.map((m) => m.type).join('')
const tag = (m: BackendMessage | undefined): string => m === undefined ? '' : m.body.toString('utf8', 0, m.body.length - 1)

describe('extended query protocol', () => {
  let f: PgFixture
  let c: RawClient

  beforeAll(async () => {
    f = await startPg()
    await f.store.transaction(Array.from({ length: 10 }, (_, i) => ({ sql: 'INSERT INTO todos (id, title, score) VALUES (?, ?, ?)', params: [i + 1, `t${i + 1}`, (i + 1) / 2] })))
    c = await rawStartup(f.port)
  })
  afterAll(async () => {
    c.close()
    await f.stop()
  })

  it('suspends a portal at the row limit and resumes it', async () => {
    c.send(parseMsg('', 'SELECT id FROM todos WHERE id <= $1 ORDER BY id'), bindMsg('', '', ['7']), executeMsg('', 3), flushMsg())
    let msgs = await c.readUntil('s')
    expect(types(msgs)).toBe('12DDDs')
    c.send(executeMsg('', 3), flushMsg())
    msgs = await c.readUntil('s')
    expect(msgs.filter((m) => m.type === 'D').map((m) => dataRowValues(m.body)[0])).toEqual(['4', '5', '6'])
    c.send(executeMsg('', 3), syncMsg())
    msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('DCZ')
    expect(tag(msgs[1])).toBe('SELECT 1')
  })

  it('describes statements and portals', async () => {
    c.send(parseMsg('s1', 'SELECT id, title, score, id * 2 AS twice FROM todos WHERE id = $1', [20]), describeMsg('S', 's1'), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('1tTZ')
    const t = msgs[1] as BackendMessage
    expect(t.body.readInt16BE(0)).toBe(1)
    expect(t.body.readInt32BE(2)).toBe(20)
    c.send(bindMsg('p1', 's1', ['2']), describeMsg('P', 'p1'), executeMsg('p1'), closeMsg('P', 'p1'), closeMsg('S', 's1'), syncMsg())
    const run = await c.readUntil('Z')
    expect(types(run)).toBe('2TDC33Z')
    expect(dataRowValues((run[2] as BackendMessage).body)).toEqual(['2', 't2', '1', '4'])
  })

  it('answers NoData when describing a write, and runs it once', async () => {
    c.send(parseMsg('w', 'UPDATE todos SET title = $1 WHERE id = $2'), describeMsg('S', 'w'), bindMsg('', 'w', ['renamed', '1']), describeMsg('P', ''), executeMsg(''), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('1tn2nCZ')
    expect(tag(msgs[5])).toBe('UPDATE 1')
    c.send(closeMsg('S', 'w'), syncMsg())
    await c.readUntil('Z')
  })

  it('returns binary results when asked', async () => {
    c.send(parseMsg('', 'SELECT id, score, title FROM todos WHERE id = 3'), bindMsg('', '', [], [1]), executeMsg(''), syncMsg())
    const msgs = await c.readUntil('Z')
    const row = dataRowBuffers((msgs.find((m) => m.type === 'D') as BackendMessage).body)
    expect(row[0]?.readBigInt64BE(0)).toBe(3n)
    expect(row[1]?.readDoubleBE(0)).toBe(1.5)
    expect(row[2]?.toString()).toBe('t3')
  })

  it('accepts binary parameters', async () => {
    const id = Buffer.alloc(8)
    id.writeBigInt64BE(4n)
    c.send(parseMsg('', 'SELECT title FROM todos WHERE id = $1', [20]), bindMsg('', '', [id], [], [1]), executeMsg(''), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(dataRowValues((msgs.find((m) => m.type === 'D') as BackendMessage).body)).toEqual(['t4'])
  })

  it('skips to Sync after an error and recovers', async () => {
    c.send(parseMsg('', 'SELECT * FROM nope'), bindMsg('', '', []), executeMsg(''), parseMsg('', 'SELECT 1'), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('EZ')
    expect(errorFields((msgs[0] as BackendMessage).body).C).toBe('42P01')
    c.send(parseMsg('', 'SELECT 5 AS five'), bindMsg('', '', []), executeMsg(''), syncMsg())
    const ok = await c.readUntil('Z')
    expect(types(ok)).toBe('12DCZ')
  })

  it('reports a wrong parameter count without closing the connection', async () => {
    c.send(parseMsg('', 'SELECT $1, $2'), bindMsg('', '', ['1']), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('1EZ')
    expect(errorFields((msgs[1] as BackendMessage).body).M).toMatch(/supplies 1 parameters, but prepared statement "" requires 2/)
  })

  it('rejects malformed parameter values with 22P02', async () => {
    c.send(parseMsg('', 'SELECT $1', [23]), bindMsg('', '', ['12abc']), syncMsg())
    const msgs = await c.readUntil('Z')
    expect(errorFields((msgs[1] as BackendMessage).body).C).toBe('22P02')
  })

  it('reports the transaction status in ReadyForQuery', async () => {
    c.send(queryMsg('BEGIN'))
    let msgs = await c.readUntil('Z')
    expect((msgs.at(-1) as BackendMessage).body.toString()).toBe('T')
    c.send(queryMsg('SELECT * FROM nope'))
    msgs = await c.readUntil('Z')
    expect((msgs.at(-1) as BackendMessage).body.toString()).toBe('E')
    c.send(queryMsg('ROLLBACK'))
    msgs = await c.readUntil('Z')
    expect((msgs.at(-1) as BackendMessage).body.toString()).toBe('I')
  })

  it('answers an empty query with EmptyQueryResponse', async () => {
    c.send(queryMsg('  ;  '))
    const msgs = await c.readUntil('Z')
    expect(types(msgs)).toBe('IZ')
  })
})

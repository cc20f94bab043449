import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MessageWriter } from '../../src/pg/wire/message-writer.ts'
import { frameDecoder } from '../../src/pg/wire/frame-decoder.ts'
import { decodeBind, decodeExecute, decodeParse, decodeQuery, decodeSaslInitial, decodeStartup, decodeTarget } from '../../src/pg/wire/frontend-messages.ts'
import * as msg from '../../src/pg/wire/backend-messages.ts'
import { bindMsg, executeMsg, parseMsg, startupPacket } from './support/raw-client.ts'

describe('frame decoder', () => {
  it('reassembles frames split at every byte boundary', () => {
    const bytes = Buffer.concat([parseMsg('s1', 'SELECT $1', [23]), bindMsg('', 's1', ['7']), executeMsg('', 5)])
    for (let cut = 1; cut < bytes.length; cut++) {
      const d = frameDecoder()
      d.push(bytes.subarray(0, cut))
      const got: string[] = []
      let f
      while ((f = d.next(false)) !== null) got.push(String.fromCharCode(f.type))
      d.push(bytes.subarray(cut))
      while ((f = d.next(false)) !== null) got.push(String.fromCharCode(f.type))
      expect(got).toEqual(['P', 'B', 'E'])
      expect(d.buffered).toBe(0)
    }
  })

  it('decodes a startup packet', () => {
    const d = frameDecoder()
    d.push(startupPacket({ user: 'alice', database: 'db', application_name: 'x' }))
    const f = d.next(true)
    expect(f).not.toBeNull()
    expect(decodeStartup(f!.body)).toEqual({ kind: 'startup', params: { user: 'alice', database: 'db', application_name: 'x' } })
  })

  it('recognises SSLRequest, GSSENCRequest and CancelRequest', () => {
    const pkt = (code: number, extra: number[] = []): Buffer => { const b = Buffer.alloc(4 + extra.length * 4); b.writeInt32BE(code); extra.forEach((v, i) => b.writeInt32BE(v, 4 + i * 4)); return b }
    expect(decodeStartup(pkt(80877103))).toEqual({ kind: 'ssl' })
    expect(decodeStartup(pkt(80877104))).toEqual({ kind: 'gssenc' })
    expect(decodeStartup(pkt(80877102, [7, 9]))).toEqual({ kind: 'cancel', pid: 7, secret: 9 })
  })

  it('rejects impossible lengths with PgProtocolError', () => {
    const d = frameDecoder({ maxMessageSize: 1024 })
    d.push(Buffer.from([0x51, 0, 0, 0, 2]))
    expect(() => d.next(false)).toThrow(expect.objectContaining({ name: 'PgProtocolError' }))
    const big = frameDecoder({ maxMessageSize: 1024 })
    big.push(Buffer.from([0x51, 0, 0, 0x10, 0]))
    expect(() => big.next(false)).toThrow(/exceeds the limit/)
    const startup = frameDecoder()
    startup.push(Buffer.from([0, 1, 0, 0, 0, 3, 0, 0]))
    expect(() => startup.next(true)).toThrow(/startup packet length/)
  })

  it('rejects an unsupported protocol version and a missing user', () => {
    const b = Buffer.alloc(8); b.writeInt32BE(2 << 16)
    expect(() => decodeStartup(b.subarray(0, 4))).toThrow(/unsupported frontend protocol/)
    const noUser = startupPacket({ database: 'x' })
    expect(() => decodeStartup(noUser.subarray(4))).toThrow(/no PostgreSQL user name/)
  })

  it('decodes Parse, Bind and Execute', () => {
    expect(decodeParse(parseMsg('n', 'SELECT $1', [20]).subarray(5))).toEqual({ name: 'n', sql: 'SELECT $1', paramTypes: [20] })
    const b = decodeBind(bindMsg('p', 'n', ['1', null], [1]).subarray(5))
    expect(b.portal).toBe('p')
    expect(b.statement).toBe('n')
    expect(b.params.map((x) => x?.toString() ?? null)).toEqual(['1', null])
    expect(b.resultFormats).toEqual([1])
    expect(decodeExecute(executeMsg('p', 3).subarray(5))).toEqual({ portal: 'p', maxRows: 3 })
  })

  it('decoders throw only PgProtocolError on random bytes', () => {
    const decoders = [decodeParse, decodeBind, decodeExecute, decodeQuery, decodeSaslInitial, decodeTarget, decodeStartup]
    fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), fc.integer({ min: 0, max: decoders.length - 1 }), (bytes, which) => {
      try {
        (decoders[which] as (b: Buffer) => unknown)(Buffer.from(bytes))
      } catch (err) {
        expect((err as Error).name).toBe('PgProtocolError')
      }
    }), { numRuns: 2000 })
  })
})

describe('message writer', () => {
  it('encodes a RowDescription, DataRow and ErrorResponse with correct lengths', () => {
    const w = new MessageWriter(8)
    msg.rowDescription(w, [{ name: 'id', tableOid: 0, columnId: 0, typeOid: 20, typeSize: 8, typeModifier: -1, format: 0 }])
    msg.dataRow(w, ['42', null, Buffer.from([1, 2])])
    msg.errorResponse(w, { severity: 'ERROR', code: '42P01', message: 'no such table: x' })
    msg.readyForQuery(w, 'I')
    const buf = w.take()
    const types: string[] = []
    let i = 0
    while (i < buf.length) {
      types.push(String.fromCharCode(buf[i] as number))
      i += 1 + buf.readInt32BE(i + 1)
    }
    expect(i).toBe(buf.length)
    expect(types).toEqual(['T', 'D', 'E', 'Z'])
    expect(w.length).toBe(0)
  })
})

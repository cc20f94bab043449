import { PgProtocolError } from '../errors.ts'
import { MessageReader } from './message-reader.ts'

/** Protocol 3.0 as the startup packet's version code. */
export const PROTOCOL_3 = 196608
/** The SSLRequest code. */
export const SSL_REQUEST = 80877103
/** The GSSENCRequest code. */
export const GSSENC_REQUEST = 80877104
/** The CancelRequest code. */
export const CANCEL_REQUEST = 80877102

/** A decoded startup-phase packet. */
export type StartupPacket =
  | { kind: 'startup', params: Record<string, string> }
  | { kind: 'ssl' }
  | { kind: 'gssenc' }
  | { kind: 'cancel', pid: number, secret: number }

/** Decodes a startup-phase packet body (after its length). */
export function decodeStartup (body: Buffer): StartupPacket {
  const r = new MessageReader(body)
  const code = r.int32('protocol version')
  if (code === SSL_REQUEST) return { kind: 'ssl' }
  if (code === GSSENC_REQUEST) return { kind: 'gssenc' }
  if (code === CANCEL_REQUEST) return { kind: 'cancel', pid: r.int32('pid'), secret: r.int32('secret') }
  if (code >> 16 !== 3) {
    throw new PgProtocolError(`unsupported frontend protocol ${code >> 16}.${code & 0xffff}: server supports 3.0`)
  }
  const params: Record<string, string> = {}
  while (r.remaining > 0) {
    const key = r.cstring('startup parameter name')
    if (key === '') break
    params[key] = r.cstring(`value of startup parameter ${key}`)
  }
  if (params.user === undefined || params.user === '') throw new PgProtocolError('no PostgreSQL user name specified in startup packet')
  return { kind: 'startup', params }
}

/** A Parse message. */
export interface ParseMessage {
  name: string
  sql: string
  paramTypes: number[]
}

/** Decodes Parse ('P'). */
export function decodeParse (body: Buffer): ParseMessage {
  const r = new MessageReader(body)
  const name = r.cstring('statement name')
  const sql = r.cstring('query')
  const n = r.int16('parameter type count')
  if (n < 0) throw new PgProtocolError(`invalid parameter type count ${n}`)
  const paramTypes: number[] = []
  for (let i = 0; i < n; i++) paramTypes.push(r.int32('parameter type') >>> 0)
  return { name, sql, paramTypes }
}

/** A Bind message. Parameter values are raw bytes (`null` for SQL NULL). */
export interface BindMessage {
  portal: string
  statement: string
  paramFormats: number[]
  params: Array<Buffer | null>
  resultFormats: number[]
}

function formats (r: MessageReader, what: string): number[] {
  const n = r.int16(`${what} count`)
  if (n < 0) throw new PgProtocolError(`invalid ${what} count ${n}`)
  const out: number[] = []
  for (let i = 0; i < n; i++) {
    const f = r.int16(what)
    if (f !== 0 && f !== 1) throw new PgProtocolError(`invalid ${what} ${f}`)
    out.push(f)
  }
  return out
}

/** Decodes Bind ('B'). */
export function decodeBind (body: Buffer): BindMessage {
  const r = new MessageReader(body)
  const portal = r.cstring('portal name')
  const statement = r.cstring('statement name')
  const paramFormats = formats(r, 'parameter format code')
  const n = r.int16('parameter count')
  if (n < 0) throw new PgProtocolError(`invalid parameter count ${n}`)
  const params: Array<Buffer | null> = []
  for (let i = 0; i < n; i++) {
    const len = r.int32('parameter length')
    if (len === -1) params.push(null)
    else if (len < 0) throw new PgProtocolError(`invalid parameter length ${len}`)
    else params.push(Buffer.from(r.bytes(len, 'parameter value')))
  }
  const resultFormats = formats(r, 'result format code')
  if (paramFormats.length > 1 && paramFormats.length !== n) {
    throw new PgProtocolError(`bind message has ${paramFormats.length} parameter formats but ${n} parameters`)
  }
  return { portal, statement, paramFormats, params, resultFormats }
}

/** Decodes Describe ('D') or Close ('C'): which kind of object and its name. */
export function decodeTarget (body: Buffer): { kind: 'S' | 'P', name: string } {
  const r = new MessageReader(body)
  const k = String.fromCharCode(r.byte('target kind'))
  if (k !== 'S' && k !== 'P') throw new PgProtocolError(`invalid describe/close target '${k}'`)
  return { kind: k, name: r.cstring('target name') }
}

/** Decodes Execute ('E'). */
export function decodeExecute (body: Buffer): { portal: string, maxRows: number } {
  const r = new MessageReader(body)
  return { portal: r.cstring('portal name'), maxRows: r.int32('row limit') }
}

/** Decodes Query ('Q'). */
export function decodeQuery (body: Buffer): string {
  return new MessageReader(body).cstring('query string')
}

/** Decodes a cleartext PasswordMessage ('p'). */
export function decodePassword (body: Buffer): string {
  return new MessageReader(body).cstring('password')
}

/** Decodes SASLInitialResponse ('p'): mechanism and initial client data. */
export function decodeSaslInitial (body: Buffer): { mechanism: string, data: string } {
  const r = new MessageReader(body)
  const mechanism = r.cstring('SASL mechanism')
  const len = r.int32('SASL data length')
  const data = len < 0 ? '' : r.bytes(len, 'SASL data').toString('utf8')
  return { mechanism, data }
}

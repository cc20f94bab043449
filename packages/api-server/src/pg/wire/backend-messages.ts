import type { MessageWriter } from './message-writer.ts'

/** A RowDescription field. */
export interface FieldDescription {
  name: string
  /** OID of the source table, 0 when none. */
  tableOid: number
  /** Attribute number in the source table, 0 when none. */
  columnId: number
  typeOid: number
  typeSize: number
  typeModifier: number
  /** 0 text, 1 binary. */
  format: number
}

/** The fields of an ErrorResponse or NoticeResponse. */
export interface ErrorFields {
  severity: 'ERROR' | 'FATAL' | 'WARNING' | 'NOTICE'
  code: string
  message: string
  detail?: string
  hint?: string
}

const ch = (c: string): number => c.charCodeAt(0)

/** AuthenticationOk. */
export function authenticationOk (w: MessageWriter): void {
  w.begin(ch('R')).int32(0).end()
}

/** AuthenticationCleartextPassword. */
export function authenticationCleartext (w: MessageWriter): void {
  w.begin(ch('R')).int32(3).end()
}

/** AuthenticationSASL with the mechanisms offered. */
export function authenticationSasl (w: MessageWriter, mechanisms: readonly string[]): void {
  w.begin(ch('R')).int32(10)
  for (const m of mechanisms) w.cstring(m)
  w.byte(0).end()
}

/** AuthenticationSASLContinue carrying the server-first message. */
export function authenticationSaslContinue (w: MessageWriter, data: string): void {
  w.begin(ch('R')).int32(11).bytes(Buffer.from(data, 'utf8')).end()
}

/** AuthenticationSASLFinal carrying the server-final message. */
export function authenticationSaslFinal (w: MessageWriter, data: string): void {
  w.begin(ch('R')).int32(12).bytes(Buffer.from(data, 'utf8')).end()
}

/** ParameterStatus. */
export function parameterStatus (w: MessageWriter, name: string, value: string): void {
  w.begin(ch('S')).cstring(name).cstring(value).end()
}

/** BackendKeyData. */
export function backendKeyData (w: MessageWriter, pid: number, secret: number): void {
  w.begin(ch('K')).int32(pid).int32(secret).end()
}

/** ReadyForQuery with the transaction status: `I` idle, `T` in a block, `E` failed block. */
export function readyForQuery (w: MessageWriter, status: 'I' | 'T' | 'E'): void {
  w.begin(ch('Z')).byte(ch(status)).end()
}

/** RowDescription. */
export function rowDescription (w: MessageWriter, fields: readonly FieldDescription[]): void {
  w.begin(ch('T')).int16(fields.length)
  for (const f of fields) {
    w.cstring(f.name).int32(f.tableOid).int16(f.columnId).int32(f.typeOid).int16(f.typeSize).int32(f.typeModifier).int16(f.format)
  }
  w.end()
}

/** DataRow; each value is already encoded (string for text format, bytes for binary), `null` for NULL. */
export function dataRow (w: MessageWriter, values: ReadonlyArray<string | Uint8Array | null>): void {
  w.begin(ch('D')).int16(values.length)
  for (const v of values) {
    if (v === null) w.int32(-1)
    else if (typeof v === 'string') w.lengthPrefixedString(v)
    else w.int32(v.length).bytes(v)
  }
  w.end()
}

/** CommandComplete. */
export function commandComplete (w: MessageWriter, tag: string): void {
  w.begin(ch('C')).cstring(tag).end()
}

/** EmptyQueryResponse. */
export function emptyQueryResponse (w: MessageWriter): void {
  w.begin(ch('I')).end()
}

function fields (w: MessageWriter, type: string, f: ErrorFields): void {
  w.begin(ch(type))
  w.byte(ch('S')).cstring(f.severity)
  w.byte(ch('V')).cstring(f.severity)
  w.byte(ch('C')).cstring(f.code)
  w.byte(ch('M')).cstring(f.message)
  if (f.detail !== undefined) w.byte(ch('D')).cstring(f.detail)
  if (f.hint !== undefined) w.byte(ch('H')).cstring(f.hint)
  w.byte(0).end()
}

/** ErrorResponse. */
export function errorResponse (w: MessageWriter, f: ErrorFields): void {
  fields(w, 'E', f)
}

/** NoticeResponse. */
export function noticeResponse (w: MessageWriter, f: ErrorFields): void {
  fields(w, 'N', f)
}

/** ParseComplete. */
export function parseComplete (w: MessageWriter): void {
  w.begin(ch('1')).end()
}

/** BindComplete. */
export function bindComplete (w: MessageWriter): void {
  w.begin(ch('2')).end()
}

/** CloseComplete. */
export function closeComplete (w: MessageWriter): void {
  w.begin(ch('3')).end()
}

/** NoData. */
export function noData (w: MessageWriter): void {
  w.begin(ch('n')).end()
}

/** PortalSuspended. */
export function portalSuspended (w: MessageWriter): void {
  w.begin(ch('s')).end()
}

/** ParameterDescription. */
export function parameterDescription (w: MessageWriter, oids: readonly number[]): void {
  w.begin(ch('t')).int16(oids.length)
  for (const o of oids) w.int32(o)
  w.end()
}

function copyResponse (w: MessageWriter, type: string, columns: number): void {
  w.begin(ch(type)).byte(0).int16(columns)
  for (let i = 0; i < columns; i++) w.int16(0)
  w.end()
}

/** CopyInResponse (text format for every column). */
export function copyInResponse (w: MessageWriter, columns: number): void {
  copyResponse(w, 'G', columns)
}

/** CopyOutResponse (text format for every column). */
export function copyOutResponse (w: MessageWriter, columns: number): void {
  copyResponse(w, 'H', columns)
}

/** CopyData carrying one encoded row. */
export function copyData (w: MessageWriter, line: string): void {
  w.begin(ch('d')).bytes(Buffer.from(line, 'utf8')).end()
}

/** CopyDone. */
export function copyDone (w: MessageWriter): void {
  w.begin(ch('c')).end()
}

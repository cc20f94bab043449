import { formatDateTime, isDateTimeOid } from './datetime.ts'
import { PgParameterError } from './errors.ts'
import type { SqlValue } from '../ports.ts'

/** PostgreSQL type OIDs the endpoint uses. */
export const OID = {
  bool: 16,
  bytea: 17,
  char: 18,
  name: 19,
  int8: 20,
  int2: 21,
  int4: 23,
  regproc: 24,
  text: 25,
  oid: 26,
  json: 114,
  xml: 142,
  float4: 700,
  float8: 701,
  unknown: 705,
  bpchar: 1042,
  varchar: 1043,
  date: 1082,
  time: 1083,
  timestamp: 1114,
  timestamptz: 1184,
  interval: 1186,
  numeric: 1700,
  regclass: 2205,
  regtype: 2206,
  uuid: 2950,
  jsonb: 3802,
  anyType: 2276,
  int2vector: 22,
  oidvector: 30,
  textArray: 1009,
  int8Array: 1016,
  int2Array: 1005,
  oidArray: 1028,
  charArray: 1002,
  aclitemArray: 1034
} as const

/** Name, OID, size and category of every type the catalog lists. */
export const TYPES: ReadonlyArray<{ name: string, oid: number, len: number, category: string, array: number, elem: number }> = [
  { name: 'bool', oid: 16, len: 1, category: 'B', array: 1000, elem: 0 },
  { name: 'bytea', oid: 17, len: -1, category: 'U', array: 1001, elem: 0 },
  { name: 'char', oid: 18, len: 1, category: 'S', array: 1002, elem: 0 },
  { name: 'name', oid: 19, len: 64, category: 'S', array: 1003, elem: 0 },
  { name: 'int8', oid: 20, len: 8, category: 'N', array: 1016, elem: 0 },
  { name: 'int2', oid: 21, len: 2, category: 'N', array: 1005, elem: 0 },
  { name: 'int2vector', oid: 22, len: -1, category: 'A', array: 1006, elem: 21 },
  { name: 'int4', oid: 23, len: 4, category: 'N', array: 1007, elem: 0 },
  { name: 'regproc', oid: 24, len: 4, category: 'N', array: 1008, elem: 0 },
  { name: 'text', oid: 25, len: -1, category: 'S', array: 1009, elem: 0 },
  { name: 'oid', oid: 26, len: 4, category: 'N', array: 1028, elem: 0 },
  { name: 'oidvector', oid: 30, len: -1, category: 'A', array: 1013, elem: 26 },
  { name: 'json', oid: 114, len: -1, category: 'U', array: 199, elem: 0 },
  { name: 'float4', oid: 700, len: 4, category: 'N', array: 1021, elem: 0 },
  { name: 'float8', oid: 701, len: 8, category: 'N', array: 1022, elem: 0 },
  { name: 'unknown', oid: 705, len: -2, category: 'X', array: 0, elem: 0 },
  { name: 'bpchar', oid: 1042, len: -1, category: 'S', array: 1014, elem: 0 },
  { name: 'varchar', oid: 1043, len: -1, category: 'S', array: 1015, elem: 0 },
  { name: 'date', oid: 1082, len: 4, category: 'D', array: 1182, elem: 0 },
  { name: 'time', oid: 1083, len: 8, category: 'D', array: 1183, elem: 0 },
  { name: 'timestamp', oid: 1114, len: 8, category: 'D', array: 1115, elem: 0 },
  { name: 'timestamptz', oid: 1184, len: 8, category: 'D', array: 1185, elem: 0 },
  { name: 'interval', oid: 1186, len: 16, category: 'T', array: 1187, elem: 0 },
  { name: 'numeric', oid: 1700, len: -1, category: 'N', array: 1231, elem: 0 },
  { name: 'regclass', oid: 2205, len: 4, category: 'N', array: 2210, elem: 0 },
  { name: 'regtype', oid: 2206, len: 4, category: 'N', array: 2211, elem: 0 },
  { name: 'uuid', oid: 2950, len: 16, category: 'U', array: 2951, elem: 0 },
  { name: 'jsonb', oid: 3802, len: -1, category: 'U', array: 3807, elem: 0 },
  { name: '_bool', oid: 1000, len: -1, category: 'A', array: 0, elem: 16 },
  { name: '_bytea', oid: 1001, len: -1, category: 'A', array: 0, elem: 17 },
  { name: '_int2', oid: 1005, len: -1, category: 'A', array: 0, elem: 21 },
  { name: '_int4', oid: 1007, len: -1, category: 'A', array: 0, elem: 23 },
  { name: '_text', oid: 1009, len: -1, category: 'A', array: 0, elem: 25 },
  { name: '_varchar', oid: 1015, len: -1, category: 'A', array: 0, elem: 1043 },
  { name: '_int8', oid: 1016, len: -1, category: 'A', array: 0, elem: 20 },
  { name: '_float4', oid: 1021, len: -1, category: 'A', array: 0, elem: 700 },
  { name: '_float8', oid: 1022, len: -1, category: 'A', array: 0, elem: 701 },
  { name: '_oid', oid: 1028, len: -1, category: 'A', array: 0, elem: 26 },
  { name: '_timestamp', oid: 1115, len: -1, category: 'A', array: 0, elem: 1114 },
  { name: '_numeric', oid: 1231, len: -1, category: 'A', array: 0, elem: 1700 },
  { name: '_json', oid: 199, len: -1, category: 'A', array: 0, elem: 114 },
  { name: '_jsonb', oid: 3807, len: -1, category: 'A', array: 0, elem: 3802 }
]

const byOid = new Map(TYPES.map((t) => [t.oid, t]))

/** The type name of an OID (`format_type` without modifiers), e.g. 20 → `bigint`. */
export function typeDisplayName (oid: number): string {
  switch (oid) {
    case OID.int8: return 'bigint'
    case OID.int4: return 'integer'
    case OID.int2: return 'smallint'
    case OID.float8: return 'double precision'
    case OID.float4: return 'real'
    case OID.bool: return 'boolean'
    case OID.varchar: return 'character varying'
    case OID.bpchar: return 'character'
    case OID.timestamp: return 'timestamp without time zone'
    case OID.timestamptz: return 'timestamp with time zone'
    case OID.time: return 'time without time zone'
    default: {
      const t = byOid.get(oid)
      if (t === undefined) return '???'
      return t.elem !== 0 && t.name.startsWith('_') ? `${typeDisplayName(t.elem)}[]` : t.name
    }
  }
}

/** The size (`typlen`) of an OID's type, -1 for variable length. */
export function typeSize (oid: number): number {
  return byOid.get(oid)?.len ?? -1
}

/**
 * The OID for a SQLite declared column type. Well-known PostgreSQL names map directly; anything
 * else follows SQLite's affinity rules (INT → int8, CHAR/CLOB/TEXT → text, BLOB → bytea,
 * REAL/FLOA/DOUB → float8, else numeric). An empty declaration maps to text.
 */
export function oidForDeclaredType (declared: string | null | undefined): number {
  if (declared == null) return OID.text
  let oid = declaredCache.get(declared)
  if (oid === undefined) {
    oid = mapDeclared(declared)
    if (declaredCache.size > 1000) declaredCache.clear()
    declaredCache.set(declared, oid)
  }
  return oid
}

const declaredCache = new Map<string, number>()

function mapDeclared (declared: string): number {
  const t = declared.trim().toUpperCase().replace(/\s*\(.*$/, '')
  if (t === '') return OID.text
  switch (t) {
    case 'BOOL': case 'BOOLEAN': return OID.bool
    case 'SMALLINT': case 'INT2': return OID.int2
    case 'INT4': return OID.int4
    case 'DATE': return OID.date
    case 'TIME': return OID.time
    case 'DATETIME': case 'TIMESTAMP': return OID.timestamp
    case 'TIMESTAMPTZ': return OID.timestamptz
    case 'JSON': return OID.json
    case 'JSONB': return OID.jsonb
    case 'UUID': return OID.uuid
    case 'VARCHAR': case 'CHARACTER VARYING': case 'NVARCHAR': return OID.varchar
    case 'CHAR': case 'CHARACTER': case 'NCHAR': return OID.bpchar
    case 'NUMERIC': case 'DECIMAL': return OID.numeric
    case 'FLOAT4': return OID.float4
    case 'ANY': return OID.text
  }
  if (t.includes('INT')) return OID.int8
  if (t.includes('CHAR') || t.includes('CLOB') || t.includes('TEXT')) return OID.text
  if (t.includes('BLOB') || t.includes('BINARY') || t === 'BYTEA') return OID.bytea
  if (t.includes('REAL') || t.includes('FLOA') || t.includes('DOUB')) return OID.float8
  return OID.numeric
}

/** The OID that describes a runtime value (for computed columns without a declared type). */
export function oidForValue (v: SqlValue | undefined): number {
  if (typeof v === 'bigint') return OID.int8
  if (typeof v === 'number') return Number.isInteger(v) ? OID.int8 : OID.float8
  if (v instanceof Uint8Array) return OID.bytea
  return OID.text
}

function hex (b: Uint8Array): string {
  return '\\x' + Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex')
}

function floatText (n: number): string {
  if (Number.isNaN(n)) return 'NaN'
  if (n === Infinity) return 'Infinity'
  if (n === -Infinity) return '-Infinity'
  return String(n)
}

function isTrue (v: SqlValue): boolean {
  if (typeof v === 'string') return /^(t|true|y|yes|on|1)$/i.test(v.trim())
  if (v instanceof Uint8Array) return v.length > 0
  return v !== 0 && v !== 0n && v !== null
}

/** Encodes a SQLite value in PostgreSQL text format for a column of type `oid`. */
export function encodeText (v: SqlValue, oid: number): string | null {
  if (v === null) return null
  if (oid === OID.bool) return isTrue(v) ? 't' : 'f'
  if (v instanceof Uint8Array) return oid === OID.bytea ? hex(v) : Buffer.from(v).toString('utf8')
  if (typeof v === 'number') {
    if (oid === OID.bytea) return hex(Buffer.from(String(v)))
    return Number.isInteger(v) && oid !== OID.float8 && oid !== OID.float4 ? String(v) : floatText(v)
  }
  if (typeof v === 'bigint') return String(v)
  if (oid === OID.bytea) return hex(Buffer.from(v, 'utf8'))
  // SQLite keeps dates as text in any ISO-8601 spelling; clients parse PostgreSQL's output format.
  return isDateTimeOid(oid) ? formatDateTime(v, oid) : v
}

/** Types for which binary result format is implemented. */
export function binarySupported (oid: number): boolean {
  return oid === OID.bool || oid === OID.int2 || oid === OID.int4 || oid === OID.int8 || oid === OID.float4 ||
    oid === OID.float8 || oid === OID.text || oid === OID.varchar || oid === OID.bytea || oid === OID.json ||
    oid === OID.name || oid === OID.oid || oid === OID.bpchar
}

function toNumber (v: SqlValue): number {
  if (typeof v === 'number') return v
  if (typeof v === 'bigint') return Number(v)
  if (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v)
  throw new PgParameterError(`value ${JSON.stringify(String(v))} cannot be sent as a number in binary format`)
}

function toBigInt (v: SqlValue): bigint {
  if (typeof v === 'bigint') return v
  const n = toNumber(v)
  if (!Number.isInteger(n)) throw new PgParameterError(`value ${n} cannot be sent as an integer in binary format`)
  return BigInt(n)
}

/** Encodes a SQLite value in PostgreSQL binary format for a column of type `oid`. */
export function encodeBinary (v: SqlValue, oid: number): Uint8Array | null {
  if (v === null) return null
  switch (oid) {
    case OID.bool: return Buffer.from([isTrue(v) ? 1 : 0])
    case OID.int2: { const b = Buffer.alloc(2); b.writeInt16BE(Number(toBigInt(v))); return b }
    case OID.int4: case OID.oid: { const b = Buffer.alloc(4); b.writeInt32BE(Number(toBigInt(v))); return b }
    case OID.int8: { const b = Buffer.alloc(8); b.writeBigInt64BE(toBigInt(v)); return b }
    case OID.float4: { const b = Buffer.alloc(4); b.writeFloatBE(toNumber(v)); return b }
    case OID.float8: { const b = Buffer.alloc(8); b.writeDoubleBE(toNumber(v)); return b }
    case OID.bytea: return v instanceof Uint8Array ? v : Buffer.from(String(v), 'utf8')
    default: return v instanceof Uint8Array ? v : Buffer.from(String(v), 'utf8')
  }
}

function parseHexBytea (s: string): Uint8Array {
  if (s.startsWith('\\x')) {
    const h = s.slice(2)
    if (h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) throw new PgParameterError(`invalid input syntax for type bytea: ${JSON.stringify(s.slice(0, 40))}`)
    return Buffer.from(h, 'hex')
  }
  // Escape format: backslash-octal sequences and doubled backslashes.
  const out: number[] = []
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    if (c !== 92) { out.push(...Buffer.from(s[i] as string, 'utf8')); continue }
    if (s[i + 1] === '\\') { out.push(92); i++; continue }
    const oct = s.slice(i + 1, i + 4)
    if (!/^[0-3][0-7]{2}$/.test(oct)) throw new PgParameterError('invalid input syntax for type bytea')
    out.push(parseInt(oct, 8))
    i += 3
  }
  return Buffer.from(out)
}

function parseInteger (s: string, what: string): number | bigint {
  const t = s.trim()
  if (!/^[+-]?\d+$/.test(t)) throw new PgParameterError(`invalid input syntax for type ${what}: ${JSON.stringify(s.slice(0, 40))}`)
  const n = Number(t)
  return Number.isSafeInteger(n) ? n : BigInt(t)
}

/**
 * Decodes a bound parameter into a SQLite value. `oid` is the type from Parse (0 when the client
 * left it to the server: text then stays text and SQLite's column affinity converts it).
 */
export function decodeParam (raw: Buffer | null, format: number, oid: number, index: number): SqlValue {
  if (raw === null) return null
  try {
    if (format === 1) return decodeBinaryParam(raw, oid)
    const s = raw.toString('utf8')
    switch (oid) {
      case OID.bool: {
        if (/^(t|true|y|yes|on|1)$/i.test(s.trim())) return 1
        if (/^(f|false|n|no|off|0)$/i.test(s.trim())) return 0
        throw new PgParameterError(`invalid input syntax for type boolean: ${JSON.stringify(s.slice(0, 40))}`)
      }
      case OID.int2: case OID.int4: case OID.int8: case OID.oid: return parseInteger(s, 'integer')
      case OID.float4: case OID.float8: case OID.numeric: {
        const n = Number(s.trim())
        if (s.trim() === '' || (Number.isNaN(n) && s.trim() !== 'NaN')) throw new PgParameterError(`invalid input syntax for type double precision: ${JSON.stringify(s.slice(0, 40))}`)
        return n
      }
      case OID.bytea: return parseHexBytea(s)
      default: return s
    }
  } catch (err) {
    const e = err as Error
    throw new PgParameterError(`parameter $${index + 1}: ${e.message}`, { cause: err })
  }
}

function decodeBinaryParam (raw: Buffer, oid: number): SqlValue {
  const want = (n: number): void => {
    if (raw.length !== n) throw new PgParameterError(`binary value of ${raw.length} bytes for a ${n}-byte type`)
  }
  switch (oid) {
    case OID.bool: want(1); return raw[0] === 0 ? 0 : 1
    case OID.int2: want(2); return raw.readInt16BE(0)
    case OID.int4: case OID.oid: want(4); return raw.readInt32BE(0)
    case OID.int8: {
      want(8)
      const v = raw.readBigInt64BE(0)
      return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v
    }
    case OID.float4: want(4); return raw.readFloatBE(0)
    case OID.float8: want(8); return raw.readDoubleBE(0)
    case OID.text: case OID.varchar: case OID.bpchar: case OID.name: case OID.json: case OID.unknown:
      return raw.toString('utf8')
    case OID.jsonb: return raw.length > 0 && raw[0] === 1 ? raw.subarray(1).toString('utf8') : raw.toString('utf8')
    // Untyped or any other type in binary: keep the bytes.
    default: return Buffer.from(raw)
  }
}

/**
 * Parameter typing: PostgreSQL infers the type of an untyped parameter from its context; here the
 * server learns what it soundly can from the SQL text (explicit casts, `= ANY($n)`, the declared
 * type of a column the parameter is assigned to or compared with) and the text of the value.
 */
import { PgParameterError, PgUnsupportedError } from './errors.ts'
import { isDateTimeOid, normaliseDateTimeParam } from './datetime.ts'
import { lexSql, splitTopLevel } from './sql-lexer.ts'
import { OID, TYPES, decodeParam, oidForDeclaredType } from './types.ts'
import type { SchemaInfo, SqlValue } from '../ports.ts'

/** A PostgreSQL type name as written in a cast (`int`, `double precision`, `varchar(20)`, `int[]`). */
export const TYPE_NAME_SRC = String.raw`(?:double\s+precision|character\s+varying|timestamp\s+with(?:out)?\s+time\s+zone|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\s*\[\])*`

const SCALAR: Record<string, number> = {
  int: OID.int4, int4: OID.int4, integer: OID.int4, serial: OID.int4, serial4: OID.int4,
  int2: OID.int2, smallint: OID.int2, smallserial: OID.int2,
  int8: OID.int8, bigint: OID.int8, bigserial: OID.int8, serial8: OID.int8,
  real: OID.float4, float4: OID.float4,
  float: OID.float8, float8: OID.float8, 'double precision': OID.float8,
  numeric: OID.numeric, decimal: OID.numeric,
  bool: OID.bool, boolean: OID.bool,
  text: OID.text, varchar: OID.varchar, 'character varying': OID.varchar,
  char: OID.bpchar, character: OID.bpchar, bpchar: OID.bpchar, name: OID.name,
  bytea: OID.bytea, json: OID.json, jsonb: OID.jsonb, uuid: OID.uuid,
  timestamp: OID.timestamp, 'timestamp without time zone': OID.timestamp,
  timestamptz: OID.timestamptz, 'timestamp with time zone': OID.timestamptz,
  date: OID.date
}

const arrayOf = new Map(TYPES.filter((t) => t.array !== 0).map((t) => [t.oid, t.array]))
const elemOf = new Map(TYPES.filter((t) => t.elem !== 0 && t.name.startsWith('_')).map((t) => [t.oid, t.elem]))

/** The OID of a cast's type name, or 0 when it is not one the server binds specially. */
export function oidForCastType (name: string): number {
  let t = name.trim().toLowerCase().replace(/\s+/g, ' ').replace(/^pg_catalog\./, '')
  let array = false
  if (/\[\]$/.test(t)) { array = true; t = t.replace(/(\s*\[\])+$/, '') }
  t = t.replace(/\s*\(.*\)$/, '')
  const oid = SCALAR[t] ?? 0
  if (oid === 0 || !array) return oid
  return arrayOf.get(oid) ?? 0
}

/** The element OID of an array type OID (0 when `oid` is not an array type). */
export function arrayElementOid (oid: number): number {
  return elemOf.get(oid) ?? 0
}

const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n

/**
 * Rule for an untyped text parameter: a canonical integer literal binds as INTEGER, a canonical
 * decimal literal (one SQLite's TEXT affinity turns back into the very same text) as REAL, anything
 * else as TEXT. So a value stored into a TEXT column is the text the client sent.
 */
export function inferUntyped (s: string): SqlValue {
  if (/^-?(0|[1-9][0-9]*)$/.test(s)) {
    if (s === '-0') return s
    if (s.length <= 15) return Number(s)
    const b = BigInt(s)
    if (b < INT64_MIN || b > INT64_MAX) return s
    return b >= BigInt(Number.MIN_SAFE_INTEGER) && b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b
  }
  if (isCanonicalDecimal(s)) return Number(s)
  return s
}

/**
 * `-?digits.digits` without superfluous zeros (`1.50` is not), not integral (`1.0` would reach the
 * store as the number 1, an INTEGER), at most 12
 * significant digits and not below 1e-4: the range where SQLite renders the REAL back as the same
 * text (beyond ~14 digits or with an exponent its output differs, e.g. `1.0e-05`).
 */
function isCanonicalDecimal (s: string): boolean {
  const m = /^(-?)(0|[1-9][0-9]*)\.([0-9]+)$/.exec(s)
  if (m === null) return false
  const [, sign, int, frac] = m as unknown as [string, string, string, string]
  if (frac !== '0' && frac.endsWith('0')) return false
  const digits = (int === '0' ? '' : int) + (frac === '0' ? '' : frac)
  const significant = digits.replace(/^0+/, '')
  if (significant.length > 12) return false
  if (int === '0' && frac !== '0' && /^0{4}/.test(frac)) return false
  // `1.0` would reach the store as the JS number 1, which binds as INTEGER and stores as '1'.
  if (frac === '0') return false
  if (sign === '-' && significant === '') return false
  return true
}


// ---------------------------------------------------------------------------------------------
// Arrays (`= ANY($n)`)

/** Parses a one-dimensional PostgreSQL array literal (`{1,"a,b",NULL}`) into element texts. */
export function parseArrayLiteral (s: string): Array<string | null> {
  let t = s.trim()
  // Optional dimension decoration: `[1:3]={…}`.
  t = t.replace(/^\[[^\]]*\]\s*=\s*/, '')
  if (!t.startsWith('{') || !t.endsWith('}')) throw new PgParameterError(`malformed array literal: ${JSON.stringify(s.slice(0, 40))}`)
  const out: Array<string | null> = []
  const body = t.slice(1, -1)
  if (body.trim() === '') return out
  let i = 0
  while (i <= body.length) {
    while (body[i] === ' ') i++
    if (body[i] === '{') throw new PgUnsupportedError('multi-dimensional arrays are not supported with ANY/ALL')
    if (body[i] === '"') {
      let v = ''
      i++
      while (i < body.length && body[i] !== '"') {
        if (body[i] === '\\') i++
        v += body[i] ?? ''
        i++
      }
      if (body[i] !== '"') throw new PgParameterError(`malformed array literal: ${JSON.stringify(s.slice(0, 40))}`)
      i++
      out.push(v)
    } else {
      let v = ''
      while (i < body.length && body[i] !== ',') {
        if (body[i] === '\\') i++
        v += body[i] ?? ''
        i++
      }
      v = v.trim()
      out.push(/^null$/i.test(v) ? null : v)
    }
    while (body[i] === ' ') i++
    if (i >= body.length) break
    if (body[i] !== ',') throw new PgParameterError(`malformed array literal: ${JSON.stringify(s.slice(0, 40))}`)
    i++
  }
  return out
}

function jsonValue (v: SqlValue): string {
  if (v === null) return 'null'
  if (typeof v === 'bigint') return String(v)
  if (typeof v === 'number') return Number.isFinite(v) ? (Number.isInteger(v) && !Object.is(v, -0) ? String(v) : JSON.stringify(v)) : 'null'
  if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('utf8'))
  return JSON.stringify(v)
}

/**
 * An array parameter (PostgreSQL array literal, or a JSON array) as the JSON text `json_each`
 * reads: elements typed by the array's element type, or by {@link inferUntyped} when untyped.
 */
export function arrayParamJson (s: string, arrayOid: number, index: number): string {
  let elems: SqlValue[]
  const t = s.trim()
  if (t.startsWith('[')) {
    let parsed: unknown
    try { parsed = JSON.parse(t) } catch { throw new PgParameterError(`parameter $${index + 1}: malformed array literal`) }
    if (!Array.isArray(parsed)) throw new PgParameterError(`parameter $${index + 1}: malformed array literal`)
    elems = parsed.map((x) => typeof x === 'boolean' ? (x ? 1 : 0) : x === null || typeof x === 'number' || typeof x === 'string' ? x : JSON.stringify(x))
  } else {
    const elem = arrayElementOid(arrayOid)
    elems = parseArrayLiteral(t).map((e) => {
      if (e === null) return null
      if (elem === 0 || elem === OID.unknown) return inferUntyped(e)
      return decodeParam(Buffer.from(e, 'utf8'), 0, elem, index)
    })
  }
  return '[' + elems.map(jsonValue).join(',') + ']'
}

// ---------------------------------------------------------------------------------------------
// Column context

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`
const COLREF = String.raw`${IDENT}(?:\s*\.\s*${IDENT})?`

const unquote = (id: string): string => id.startsWith('"') ? id.slice(1, -1).replace(/""/g, '"') : id
const lastPart = (ref: string): string => {
  const parts = ref.match(new RegExp(IDENT, 'g')) ?? []
  return unquote(parts[parts.length - 1] ?? '').toLowerCase()
}

/** The SQL with literals blanked and comments removed (same shape for regex scanning). */
function masked (sql: string): string {
  return lexSql(sql).map((t) => t.kind === 'string' ? `'${' '.repeat(Math.max(0, t.text.length - 2))}'` : t.kind === 'comment' ? ' ' : t.text).join('')
}

/**
 * For each parameter (0-based), the OID of the declared type of the column it is assigned to
 * (`INSERT … (cols) VALUES (…)`, `SET col = $n`) or compared with (`col = $n`, `$n = col`,
 * `col <> $n`, `col IS $n`), when that is unambiguous among the tables the statement names; 0
 * otherwise.
 */
export function paramColumnTypes (sql: string, schema: SchemaInfo, paramCount: number): number[] {
  const out = new Array<number>(paramCount).fill(0)
  const conflict = new Set<number>()
  const text = masked(sql)
  const tables = new Map(schema.tables.map((t) => [t.name.toLowerCase(), t]))
  const named: typeof schema.tables = []
  for (const m of text.matchAll(new RegExp(String.raw`\b(?:FROM|JOIN|UPDATE|INTO)\s+(${COLREF})`, 'gi'))) {
    const t = tables.get(lastPart(m[1] as string))
    if (t !== undefined && !named.includes(t)) named.push(t)
  }
  if (named.length === 0) return out
  const note = (param: number, oid: number): void => {
    if (param < 0 || param >= paramCount || oid === 0) return
    if (out[param] !== 0 && out[param] !== oid) conflict.add(param)
    out[param] = oid
  }
  const columnOid = (name: string): number => {
    let found = 0
    for (const t of named) {
      const c = t.columns.find((x) => x.name.toLowerCase() === name)
      if (c === undefined) continue
      const oid = oidForDeclaredType(c.type)
      if (found !== 0 && found !== oid) return 0
      found = oid
    }
    return found
  }
  const paramOf = (item: string): number => {
    const m = new RegExp(String.raw`^\s*\$(\d+)(?:\s*::\s*${TYPE_NAME_SRC})?\s*$`).exec(item)
    return m === null ? -1 : Number(m[1]) - 1
  }
  // INSERT INTO t [(cols)] VALUES (…), (…)
  const ins = new RegExp(String.raw`\bINSERT\s+(?:OR\s+\w+\s+)?INTO\s+(${COLREF})\s*(?:\(([^()]*)\))?\s*VALUES\s*`, 'i').exec(text)
  if (ins !== null) {
    const t = tables.get(lastPart(ins[1] as string))
    if (t !== undefined) {
      const cols = ins[2] !== undefined ? splitTopLevel(ins[2]).map((c) => lastPart(c.trim())) : t.columns.map((c) => c.name.toLowerCase())
      let i = (ins.index ?? 0) + ins[0].length
      while (text[i] === '(') {
        let depth = 0
        let j = i
        for (; j < text.length; j++) {
          if (text[j] === '(') depth++
          else if (text[j] === ')' && --depth === 0) break
        }
        splitTopLevel(text.slice(i + 1, j)).forEach((item, k) => {
          const p = paramOf(item)
          const col = t.columns.find((c) => c.name.toLowerCase() === cols[k])
          if (p >= 0 && col !== undefined) note(p, oidForDeclaredType(col.type))
        })
        i = j + 1
        while (/[\s,]/.test(text[i] ?? '')) i++
      }
    }
  }
  const cast = String.raw`(?:\s*::\s*${TYPE_NAME_SRC})?`
  for (const m of text.matchAll(new RegExp(String.raw`(${COLREF})\s*(?:==|=|<>|!=|\bIS(?:\s+NOT)?\b)\s*\$(\d+)\b${cast}`, 'gi'))) {
    note(Number(m[2]) - 1, columnOid(lastPart(m[1] as string)))
  }
  for (const m of text.matchAll(new RegExp(String.raw`\$(\d+)${cast}\s*(?:==|=|<>|!=)\s*(${COLREF})`, 'gi'))) {
    if (/^(?:ANY|ALL|SOME|NOT|NULL|TRUE|FALSE)$/i.test(m[2] as string)) continue
    note(Number(m[1]) - 1, columnOid(lastPart(m[2] as string)))
  }
  for (const p of conflict) out[p] = 0
  return out
}

/** Whether an untyped parameter's text could depend on its column context. */
export function needsColumnContext (s: string): boolean {
  return /^(?:t|f|true|false)$/i.test(s) || /^\d{4}-\d{2}-\d{2}/.test(s)
}

/** How one parameter of a prepared statement is typed. */
export interface ParamTyping {
  /** Type OID from Parse (0 = unspecified). */
  client: number
  /** Type of an explicit `$n::type` / `CAST($n AS type)` (0 = none). */
  cast: number
  /** Whether the parameter is the array of `= ANY($n)` / `<> ALL($n)`. */
  array: boolean
}

/** The type a parameter is described with (ParameterDescription). */
export function describedParamType (t: ParamTyping): number {
  if (t.client !== 0) return t.client
  if (t.cast !== 0) return t.cast
  return t.array ? OID.textArray : OID.text
}

/**
 * Decodes one bound parameter. `column` is the declared-type OID of the column the parameter meets
 * (see {@link paramColumnTypes}), or 0; it only matters for untyped text parameters.
 */
export function bindParam (raw: Buffer | null, format: number, t: ParamTyping, column: number, index: number): SqlValue {
  if (raw === null) return null
  if (t.array) {
    if (format !== 0) throw new PgUnsupportedError(`parameter $${index + 1}: binary array parameters are not supported`)
    const oid = t.client !== 0 ? t.client : t.cast
    return arrayParamJson(raw.toString('utf8'), oid, index)
  }
  // A cast says how the text is read; in binary the layout is the client's type.
  const oid = format === 0 ? (t.cast !== 0 ? t.cast : t.client) : (t.client !== 0 ? t.client : t.cast)
  if (oid !== 0 && oid !== OID.unknown) {
    const v = decodeParam(raw, format, oid, index)
    return typeof v === 'string' && isDateTimeOid(oid) ? normaliseDateTimeParam(v, oid) : v
  }
  if (format !== 0) return decodeParam(raw, format, oid, index)
  const s = raw.toString('utf8')
  if (column === OID.bool && /^(?:t|f|true|false)$/i.test(s)) return /^t/i.test(s) ? 1 : 0
  if (isDateTimeOid(column)) return normaliseDateTimeParam(s, column)
  return inferUntyped(s)
}

/**
 * Date/time text: PostgreSQL's output format for date, timestamp and timestamptz columns, and the
 * stored form of date/time parameters. SQLite has no date type; values are text in the store.
 */

// (Kept free of imports: types.ts uses it.)
const DATE = 1082
const TIMESTAMP = 1114
const TIMESTAMPTZ = 1184

/** Whether `oid` is date, timestamp or timestamptz. */
export const isDateTimeOid = (oid: number): boolean => oid === TIMESTAMP || oid === TIMESTAMPTZ || oid === DATE

const TS = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/

interface ParsedTs {
  y: number, mo: number, d: number, h: number, mi: number, s: number
  /** Fraction digits (at most 6, trailing zeros removed). */
  frac: string
  hasTime: boolean
  /** Offset east of UTC in minutes, or null when the text has none. */
  offset: number | null
}

function parseTs (text: string): ParsedTs | null {
  const m = TS.exec(text.trim())
  if (m === null) return null
  const n = (i: number): number => m[i] === undefined ? 0 : Number(m[i])
  const p: ParsedTs = {
    y: n(1), mo: n(2), d: n(3), h: n(4), mi: n(5), s: n(6),
    frac: (m[7] ?? '').slice(0, 6).replace(/0+$/, ''),
    hasTime: m[4] !== undefined,
    offset: m[8] !== undefined ? 0 : m[9] !== undefined ? (m[9] === '-' ? -1 : 1) * (n(10) * 60 + n(11)) : null
  }
  if (p.mo < 1 || p.mo > 12 || p.d < 1 || p.d > 31 || p.h > 24 || p.mi > 59 || p.s > 60) return null
  return p
}

const pad = (n: number, w = 2): string => String(n).padStart(w, '0')

function toUtc (p: ParsedTs): ParsedTs {
  if (p.offset === null || p.offset === 0) return { ...p, offset: 0 }
  const d = new Date(0)
  d.setUTCFullYear(p.y, p.mo - 1, p.d)
  d.setUTCHours(p.h, p.mi - p.offset, p.s, 0)
  return { ...p, y: d.getUTCFullYear(), mo: d.getUTCMonth() + 1, d: d.getUTCDate(), h: d.getUTCHours(), mi: d.getUTCMinutes(), s: d.getUTCSeconds(), offset: 0 }
}

function fmt (p: ParsedTs): string {
  return `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)} ${pad(p.h)}:${pad(p.mi)}:${pad(p.s)}${p.frac !== '' ? '.' + p.frac : ''}`
}

/**
 * A stored date/time text in PostgreSQL's output format for `oid` (timestamp: wall-clock time, an
 * offset is dropped as PostgreSQL's timestamp input drops it; timestamptz: converted to UTC, the
 * session time zone, with `+00`; date: `YYYY-MM-DD`). Text that does not parse is returned as is.
 */
export function formatDateTime (text: string, oid: number): string {
  const p = parseTs(text)
  if (p === null) return text
  if (oid === DATE) return `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}`
  if (oid === TIMESTAMPTZ) return fmt(toUtc(p)) + '+00'
  return fmt(p)
}

/**
 * A date/time parameter as stored: `YYYY-MM-DD HH:MM:SS[.ffffff]` (SQLite's own format, so it sorts
 * with `CURRENT_TIMESTAMP`); timestamptz is converted to UTC, timestamp keeps its wall-clock time.
 */
export function normaliseDateTimeParam (text: string, oid: number): string {
  const p = parseTs(text)
  if (p === null) return text
  if (oid === DATE) return p.hasTime ? text : `${pad(p.y, 4)}-${pad(p.mo)}-${pad(p.d)}`
  if (!p.hasTime) return text
  return fmt(oid === TIMESTAMPTZ ? toUtc(p) : p)
}


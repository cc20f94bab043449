import { PgUnsupportedError } from './errors.ts'

/** A parsed `COPY … FROM STDIN` / `COPY … TO STDOUT` statement. */
export interface CopyStatement {
  direction: 'in' | 'out'
  /** Target table (`in`, or `out` without a query). */
  table: string | null
  /** Column list, when given. */
  columns: string[] | null
  /** Source query of `COPY (query) TO STDOUT`. */
  query: string | null
  format: 'text' | 'csv'
  delimiter: string
  nullString: string
  header: boolean
  quote: string
  escape: string
}

function unquoteIdent (s: string): string {
  const t = s.trim()
  return t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).replaceAll('""', '"') : t
}

function unquoteLiteral (s: string): string {
  const t = s.trim()
  if (/^[eE]'/.test(t)) return t.slice(2, -1).replace(/\\t/g, '\t').replace(/\\n/g, '\n').replace(/\\\\/g, '\\').replaceAll("''", "'")
  return t.startsWith("'") && t.endsWith("'") ? t.slice(1, -1).replaceAll("''", "'") : t
}

/**
 * Parses a COPY statement (new `WITH (FORMAT csv, HEADER, …)` and old `CSV HEADER DELIMITER ','`
 * option syntax). Only STDIN/STDOUT are supported: files live on the client side (psql `\copy`).
 */
export function parseCopy (sql: string): CopyStatement {
  // The statement regex backtracks; a COPY statement (not its data) is never this long.
  if (sql.length > 100_000) throw new PgUnsupportedError('COPY statement too long')
  const m = /^\s*COPY\s+(?:\(([\s\S]+)\)|((?:"(?:[^"]|"")+"|\w+)(?:\.(?:"(?:[^"]|"")+"|\w+))?)\s*(?:\(([^)]*)\))?)\s+(FROM|TO)\s+(\S+)\s*([\s\S]*?)\s*;?\s*$/i.exec(sql)
  if (m === null) throw new PgUnsupportedError('COPY syntax not understood: use COPY table [(columns)] FROM STDIN or COPY table|(query) TO STDOUT')
  const direction = (m[4] as string).toUpperCase() === 'FROM' ? 'in' : 'out'
  const endpoint = (m[5] as string).toUpperCase()
  if ((direction === 'in' && endpoint !== 'STDIN') || (direction === 'out' && endpoint !== 'STDOUT')) {
    throw new PgUnsupportedError(`COPY ${direction === 'in' ? 'FROM' : 'TO'} ${m[5] as string} is not supported: use ${direction === 'in' ? 'STDIN' : 'STDOUT'} (psql \\copy for client files)`)
  }
  if (direction === 'in' && m[1] !== undefined) throw new PgUnsupportedError('COPY (query) FROM is not valid')
  const out: CopyStatement = {
    direction,
    table: m[2] !== undefined ? unquoteIdent((m[2] as string).replace(/^(?:public|"public")\./i, '')) : null,
    columns: m[3] !== undefined ? (m[3] as string).split(',').map(unquoteIdent).filter((c) => c !== '') : null,
    query: m[1] ?? null,
    format: 'text',
    delimiter: '\t',
    nullString: '\\N',
    header: false,
    quote: '"',
    escape: '"'
  }
  let opts = (m[6] as string).replace(/^WITH\s*/i, '').trim()
  if (opts.startsWith('(') && opts.endsWith(')')) opts = opts.slice(1, -1).replace(/,/g, ' , ')
  const tokens = opts.match(/[eE]?'(?:[^']|'')*'|[^\s,]+/g) ?? []
  let csvNullSet = false
  for (let i = 0; i < tokens.length; i++) {
    const word = (tokens[i] as string).toUpperCase()
    const arg = (): string => unquoteLiteral(tokens[++i] ?? '')
    switch (word) {
      case 'FORMAT': {
        const f = arg().toLowerCase()
        if (f === 'binary') throw new PgUnsupportedError('COPY in binary format is not supported')
        if (f !== 'csv' && f !== 'text') throw new PgUnsupportedError(`COPY format "${f}" not recognized`)
        out.format = f
        break
      }
      case 'CSV': out.format = 'csv'; break
      case 'BINARY': throw new PgUnsupportedError('COPY in binary format is not supported')
      case 'HEADER': {
        const next = (tokens[i + 1] ?? '').toLowerCase()
        if (/^(true|on|1|false|off|0|match)$/.test(next)) { i++; out.header = next !== 'false' && next !== 'off' && next !== '0' } else out.header = true
        break
      }
      case 'DELIMITER': out.delimiter = arg(); break
      case 'NULL': out.nullString = arg(); csvNullSet = true; break
      case 'QUOTE': out.quote = arg(); break
      case 'ESCAPE': out.escape = arg(); break
      case 'ENCODING': arg(); break
      case 'AS': case ',': break
      default: throw new PgUnsupportedError(`COPY option "${tokens[i] as string}" is not supported`)
    }
  }
  if (out.format === 'csv') {
    if (!/[\s\S]*DELIMITER/i.test(opts)) out.delimiter = ','
    if (!csvNullSet) out.nullString = ''
  }
  if (out.delimiter.length !== 1) throw new PgUnsupportedError('COPY delimiter must be a single one-byte character')
  return out
}

/** The value of one COPY field: text, or `null` for SQL NULL. */
export type CopyField = string | null

function unescapeText (s: string): string {
  return s.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'b': return '\b'
      case 'f': return '\f'
      case 'n': return '\n'
      case 'r': return '\r'
      case 't': return '\t'
      case 'v': return '\v'
      case 'x': return String.fromCharCode(parseInt(e.slice(1), 16))
      default: return /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e
    }
  })
}

/** Splits COPY text-format data into rows of fields (`\N` → null, backslash escapes decoded). */
export function parseCopyText (data: string, opts: Pick<CopyStatement, 'delimiter' | 'nullString'>): CopyField[][] {
  const rows: CopyField[][] = []
  const lines = data.split('\n')
  if (lines.at(-1) === '') lines.pop()
  for (const rawLine of lines) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine
    if (line === '\\.') break
    // Split on unescaped delimiters: a backslash always escapes the next character.
    const fields: string[] = []
    let cur = ''
    for (let i = 0; i < line.length; i++) {
      const c = line[i] as string
      if (c === '\\' && i + 1 < line.length) { cur += c + (line[i + 1] as string); i++; continue }
      if (c === opts.delimiter) { fields.push(cur); cur = ''; continue }
      cur += c
    }
    fields.push(cur)
    rows.push(fields.map((f) => (f === opts.nullString ? null : unescapeText(f))))
  }
  return rows
}

/** Splits COPY CSV data into rows (quoted fields may hold delimiters, quotes and newlines). */
export function parseCopyCsv (data: string, opts: Pick<CopyStatement, 'delimiter' | 'nullString' | 'quote' | 'escape'>): CopyField[][] {
  const rows: CopyField[][] = []
  let row: CopyField[] = []
  let cur = ''
  let quoted = false
  let wasQuoted = false
  let i = 0
  const endField = (): void => {
    row.push(!wasQuoted && cur === opts.nullString ? null : cur)
    cur = ''
    wasQuoted = false
  }
  while (i < data.length) {
    const c = data[i] as string
    if (quoted) {
      if (c === opts.escape && data[i + 1] === opts.quote) { cur += opts.quote; i += 2; continue }
      if (c === opts.quote) { quoted = false; i++; continue }
      cur += c
      i++
      continue
    }
    if (c === opts.quote) { quoted = true; wasQuoted = true; i++; continue }
    if (c === opts.delimiter) { endField(); i++; continue }
    if (c === '\n' || c === '\r') {
      if (c === '\r' && data[i + 1] === '\n') i++
      i++
      if (row.length === 0 && cur === '' && !wasQuoted) continue
      if (row.length === 0 && cur === '\\.' && !wasQuoted) break
      endField()
      rows.push(row)
      row = []
      continue
    }
    cur += c
    i++
  }
  if (quoted) throw new PgUnsupportedError('unterminated CSV quoted field')
  if (row.length > 0 || cur !== '' || wasQuoted) {
    if (!(row.length === 0 && cur === '\\.')) { endField(); rows.push(row) }
  }
  return rows
}

function escapeText (s: string, delimiter: string): string {
  let out = ''
  for (const c of s) {
    if (c === '\\') out += '\\\\'
    else if (c === '\n') out += '\\n'
    else if (c === '\r') out += '\\r'
    else if (c === '\t') out += '\\t'
    else if (c === delimiter) out += '\\' + c
    else out += c
  }
  return out
}

/** Encodes one row (fields already in PostgreSQL text form) as a COPY data line, newline included. */
export function encodeCopyRow (fields: readonly CopyField[], opts: Pick<CopyStatement, 'format' | 'delimiter' | 'nullString' | 'quote' | 'escape'>): string {
  if (opts.format === 'text') {
    return fields.map((f) => (f === null ? opts.nullString : escapeText(f, opts.delimiter))).join(opts.delimiter) + '\n'
  }
  return fields.map((f) => {
    if (f === null) return opts.nullString
    const needs = f === opts.nullString || f.includes(opts.delimiter) || f.includes(opts.quote) || f.includes('\n') || f.includes('\r')
    return needs ? opts.quote + f.replaceAll(opts.quote, opts.escape + opts.quote) + opts.quote : f
  }).join(opts.delimiter) + '\n'
}

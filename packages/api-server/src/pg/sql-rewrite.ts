import { oidForCastType, TYPE_NAME_SRC } from './param-types.ts'
import { lexSql } from './sql-lexer.ts'
import { OID } from './types.ts'
import type { SqlToken } from './sql-lexer.ts'

/** A statement rewritten for SQLite. */
export interface RewrittenSql {
  sql: string
  /** The highest `$n` placeholder used (0 when none). */
  paramCount: number
  /**
   * For each `?` in `sql`, in order, the 0-based index of the client parameter it takes: `$n` become
   * anonymous `?` (portable across SQLite drivers), so `$2 … $1 … $2` binds `[p1, p0, p1]`.
   */
  paramOrder: number[]
  /** For each client parameter (0-based), the OID of an explicit cast on it (`$1::int`), else 0. */
  paramCasts: number[]
  /** Client parameters (0-based) used as the array of `= ANY($n)` / `<> ALL($n)`. */
  arrayParams: number[]
}

// `::type`, `::schema.type`, `::"char"`, `::varchar(20)`, `::text[]`, `::double precision`, …
const CAST = new RegExp(String.raw`::\s*(?:${TYPE_NAME_SRC})`, 'g')

const TYPE_CAST = String.raw`(?:\s*::\s*(${TYPE_NAME_SRC}))?`
const PARAM = new RegExp([
  String.raw`(=\s*\b(?:ANY|SOME)|(?:<>|!=)\s*\bALL)\s*\(\s*\$(\d+)${TYPE_CAST}\s*\)`,
  String.raw`\bCAST\s*\(\s*\$(\d+)\s+AS\s+(${TYPE_NAME_SRC})\s*\)`,
  String.raw`\$(\d+)${TYPE_CAST}`,
  String.raw`\?(\d*)${TYPE_CAST}`
].join('|'), 'gi')

function unescapeE (body: string): string {
  return body.replace(/\\(x[0-9a-fA-F]{1,2}|[0-7]{1,3}|u[0-9a-fA-F]{4}|.)/g, (_m, e: string) => {
    switch (e[0]) {
      case 'n': return '\n'
      case 't': return '\t'
      case 'r': return '\r'
      case 'b': return '\b'
      case 'f': return '\f'
      case 'x': return String.fromCharCode(parseInt(e.slice(1), 16))
      case 'u': return String.fromCharCode(parseInt(e.slice(1), 16))
      default: return /^[0-7]/.test(e) ? String.fromCharCode(parseInt(e, 8)) : e
    }
  })
}

/**
 * Rewrites PostgreSQL surface syntax that SQLite lacks, outside literals and comments: `$n` (and
 * SQLite's `?n`) → `?`,
 * `::type` casts are dropped, `E'…'` escape strings become plain literals, `ILIKE` and
 * `IS [NOT] DISTINCT FROM` become SQLite's `LIKE` and `IS [NOT]`, `now()` becomes
 * `CURRENT_TIMESTAMP`, a trailing `FOR UPDATE` goes.
 */
export function rewriteForSqlite (sql: string): RewrittenSql {
  const tokens: SqlToken[] = lexSql(sql)
  let paramCount = 0
  const paramOrder: number[] = []
  const paramCasts: number[] = []
  const arrayParams: number[] = []
  const take = (digits: string): number => {
    const n = digits === '' ? paramCount + 1 : Number(digits)
    if (n > paramCount) paramCount = n
    paramOrder.push(n - 1)
    return n - 1
  }
  const noteCast = (index: number, type: string | undefined): number => {
    if (type === undefined) return 0
    const oid = oidForCastType(type)
    if (oid !== 0 && (paramCasts[index] ?? 0) === 0) paramCasts[index] = oid
    return oid
  }
  // The value is bound already converted; only a float keeps a SQLite cast, since the store port
  // binds an integral JS number (7.0 === 7) as INTEGER.
  const castParam = (index: number, type: string | undefined): string => {
    const oid = noteCast(index, type)
    return oid === OID.float4 || oid === OID.float8 || oid === OID.numeric ? 'CAST(? AS REAL)' : '?'
  }
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i] as SqlToken
    if (t.kind === 'string') {
      const prev = tokens[i - 1]
      if (prev !== undefined && prev.kind === 'code' && /(^|[^\w])[eE]$/.test(prev.text)) {
        prev.text = prev.text.slice(0, -1)
        t.text = `'${unescapeE(t.text.slice(1, -1).replace(/''/g, '\'')).replace(/'/g, '\'\'')}'`
      }
      continue
    }
    if (t.kind !== 'code') continue
    // `expr = ANY($n)` / `expr <> ALL($n)` → `expr [NOT] IN (SELECT value FROM json_each(?))`; a
    // parameter cast (`$n::int`, `CAST($n AS int)`) types the parameter and goes, the value is bound
    // already converted; `$n`, and SQLite's own `?n` / `?` (numbered like SQLite: a bare `?` is the
    // highest so far + 1).
    let text = t.text.replace(PARAM, (_m, quant?: string, anyDigits?: string, anyCast?: string,
      castDigits?: string, castType?: string, dollar?: string, dollarCast?: string, q?: string, qCast?: string) => {
      if (quant !== undefined && anyDigits !== undefined) {
        const isAny = quant.startsWith('=')
        const i = take(anyDigits)
        noteCast(i, anyCast)
        if (!arrayParams.includes(i)) arrayParams.push(i)
        return `${isAny ? 'IN' : 'NOT IN'} (SELECT value FROM json_each(?))`
      }
      if (castDigits !== undefined) return castParam(take(castDigits), castType)
      if (dollar !== undefined) return castParam(take(dollar), dollarCast)
      return castParam(take(q ?? ''), qCast)
    })
    text = text.replace(CAST, '')
      // Operators PostgreSQL clients and ORMs use that SQLite spells differently.
      .replace(/\bILIKE\b/gi, 'LIKE')
      .replace(/\bnow\s*\(\s*\)/gi, 'CURRENT_TIMESTAMP')
      .replace(/\bIS\s+NOT\s+DISTINCT\s+FROM\b/gi, 'IS')
      .replace(/\bIS\s+DISTINCT\s+FROM\b/gi, 'IS NOT')
      // Row locks mean nothing here: every write is serialised by the store.
      .replace(/\bFOR\s+(?:NO\s+KEY\s+UPDATE|KEY\s+SHARE|UPDATE|SHARE)(?:\s+OF\s+\w+(?:\s*,\s*\w+)*)?(?:\s+(?:NOWAIT|SKIP\s+LOCKED))?\s*$/i, '')
    // A cast to a quoted type name (`::"char"`) leaves `::` before an ident token.
    const next = tokens[i + 1]
    if (/::\s*$/.test(text) && next !== undefined && next.kind === 'ident') {
      text = text.replace(/::\s*$/, '')
      next.text = ''
    }
    t.text = text
  }
  let out = ''
  for (const t of tokens) out += t.text
  for (let i = 0; i < paramCount; i++) paramCasts[i] ??= 0
  return { sql: out, paramCount, paramOrder, paramCasts, arrayParams }
}

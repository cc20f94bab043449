import { lexSql } from './sql-lexer.ts'
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
}

// `::type`, `::schema.type`, `::"char"`, `::varchar(20)`, `::text[]`, `::double precision`, …
const CAST = /::\s*(?:(?:double\s+precision|character\s+varying|timestamp\s+with(?:out)?\s+time\s+zone|[A-Za-z_][\w]*(?:\.[A-Za-z_]\w*)?)(?:\s*\(\s*\d+(?:\s*,\s*\d+)?\s*\))?(?:\s*\[\])*)/g

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
    // `$n`, and SQLite's own `?n` / `?` (numbered like SQLite: a bare `?` is the highest so far + 1).
    let text = t.text.replace(/\$(\d+)|\?(\d*)/g, (_m, dollar: string | undefined, q: string | undefined) => {
      const digits = dollar ?? q ?? ''
      const n = digits === '' ? paramCount + 1 : Number(digits)
      if (n > paramCount) paramCount = n
      paramOrder.push(n - 1)
      return '?'
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
  return { sql: out, paramCount, paramOrder }
}

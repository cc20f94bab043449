/** A piece of SQL text: literal strings, quoted identifiers and comments are kept whole. */
export interface SqlToken {
  kind: 'code' | 'string' | 'ident' | 'comment'
  text: string
}

/**
 * Cuts SQL into code, string literals (`'…'`, `E'…'` kept as code prefix + string), quoted
 * identifiers (`"…"`, `` `…` ``, `[…]`) and comments. Unterminated quotes run to the end of the text,
 * so SQLite reports the syntax error itself.
 */
export function lexSql (sql: string): SqlToken[] {
  const out: SqlToken[] = []
  let code = ''
  const flush = (): void => {
    if (code !== '') out.push({ kind: 'code', text: code })
    code = ''
  }
  let i = 0
  const n = sql.length
  while (i < n) {
    const c = sql[i] as string
    if (c === '\'' || c === '"' || c === '`') {
      // In an E'…' string a backslash escapes the next character (including a quote).
      const escapes = c === '\'' && /(^|[^\w])[eE]$/.test(code)
      let j = i + 1
      while (j < n) {
        if (escapes && sql[j] === '\\') { j += 2; continue }
        if (sql[j] === c) {
          if (sql[j + 1] === c) { j += 2; continue }
          break
        }
        j++
      }
      flush()
      out.push({ kind: c === '\'' ? 'string' : 'ident', text: sql.slice(i, j + 1) })
      i = j + 1
    } else if (c === '-' && sql[i + 1] === '-') {
      let j = sql.indexOf('\n', i)
      if (j < 0) j = n
      flush()
      out.push({ kind: 'comment', text: sql.slice(i, j) })
      i = j
    } else if (c === '/' && sql[i + 1] === '*') {
      let j = sql.indexOf('*/', i + 2)
      j = j < 0 ? n : j + 2
      flush()
      out.push({ kind: 'comment', text: sql.slice(i, j) })
      i = j
    } else if (c === '[' && !/[\w\])]\s*$/.test(code)) {
      // `[ident]` quoting (SQLite/MSSQL); after an expression it is array subscripting, left as code.
      let j = sql.indexOf(']', i + 1)
      j = j < 0 ? n : j + 1
      flush()
      out.push({ kind: 'ident', text: sql.slice(i, j) })
      i = j
    } else {
      code += c
      i++
    }
  }
  flush()
  return out
}

/** Joins tokens back into SQL text. */
export function joinTokens (tokens: readonly SqlToken[]): string {
  let s = ''
  for (const t of tokens) s += t.text
  return s
}

/** The SQL with comments removed and whitespace trimmed (used to detect empty statements). */
export function stripComments (sql: string): string {
  return joinTokens(lexSql(sql).filter((t) => t.kind !== 'comment')).trim()
}

/**
 * Splits a query string into statements on `;`, respecting quotes, comments and the
 * `BEGIN … END` body of `CREATE TRIGGER`. Empty statements are dropped.
 */
export function splitStatements (sql: string): string[] {
  const tokens = lexSql(sql)
  const out: string[] = []
  let current = ''
  let words: string[] = []
  let depth = 0
  const isTrigger = (): boolean => {
    const w = words.slice(0, 4)
    return w[0] === 'CREATE' && (w[1] === 'TRIGGER' || ((w[1] === 'TEMP' || w[1] === 'TEMPORARY') && w[2] === 'TRIGGER'))
  }
  const push = (): void => {
    if (stripComments(current) !== '') out.push(current.trim())
    current = ''
    words = []
    depth = 0
  }
  for (const t of tokens) {
    if (t.kind !== 'code') { current += t.text; continue }
    const re = /;|[A-Za-z_][A-Za-z_0-9]*/g
    let last = 0
    let m: RegExpExecArray | null
    while ((m = re.exec(t.text)) !== null) {
      if (m[0] === ';') {
        if (depth > 0 && isTrigger()) continue
        current += t.text.slice(last, m.index)
        last = m.index + 1
        push()
        continue
      }
      const w = m[0].toUpperCase()
      words.push(w)
      if (isTrigger()) {
        if (w === 'BEGIN' || w === 'CASE') depth++
        else if (w === 'END' && depth > 0) depth--
      }
    }
    current += t.text.slice(last)
  }
  push()
  return out
}

/** The first `count` keywords of a statement, upper-cased (comments skipped). */
export function leadingWords (sql: string, count = 3): string[] {
  const words: string[] = []
  for (const t of lexSql(sql)) {
    if (t.kind === 'comment') continue
    if (t.kind !== 'code') break
    for (const m of t.text.matchAll(/[A-Za-z_][A-Za-z_0-9]*|\S/g)) {
      if (!/^[A-Za-z_]/.test(m[0])) {
        if (m[0] === '(' && words.length === 0) continue
        return words
      }
      words.push(m[0].toUpperCase())
      if (words.length >= count) return words
    }
  }
  return words
}

/** Splits `a, (b, c), d` at top-level commas (parts untrimmed, the last one even when empty). */
export function splitTopLevel (s: string): string[] {
  const out: string[] = []
  let depth = 0
  let cur = ''
  for (const c of s) {
    if (c === '(') depth++
    else if (c === ')') depth--
    if (c === ',' && depth === 0) { out.push(cur); cur = ''; continue }
    cur += c
  }
  out.push(cur)
  return out
}

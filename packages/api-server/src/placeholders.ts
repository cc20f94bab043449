/**
 * SQLite parameter placeholders in SQL text: `?`, `?NNN`, `:name`, `@name`, `$name`, found outside
 * string literals, quoted names and comments, and numbered as SQLite numbers them (a bare `?` is
 * one past the highest number so far).
 */
import { lexSql } from './pg/sql-lexer.ts'

/** One placeholder: its 1-based position for `?`/`?NNN`, or its name (with sigil) for named ones. */
export type Placeholder = { index: number, name?: undefined, text: string } | { index?: undefined, name: string, text: string }

const PLACEHOLDER = /\?(\d*)|[:@$][A-Za-z0-9_]+/g

/** Replaces every placeholder of `sql` by what `fn` returns for it. */
export function replacePlaceholders (sql: string, fn: (p: Placeholder) => string): string {
  let highest = 0
  let out = ''
  for (const t of lexSql(sql)) {
    if (t.kind !== 'code') { out += t.text; continue }
    out += t.text.replace(PLACEHOLDER, (m: string, digits: string | undefined) => {
      if (!m.startsWith('?')) return fn({ name: m, text: m })
      const index = digits != null && digits !== '' ? Number(digits) : highest + 1
      if (index > highest) highest = index
      return fn({ index, text: m })
    })
  }
  return out
}

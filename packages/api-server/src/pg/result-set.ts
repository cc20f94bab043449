import { OID, oidForDeclaredType, oidForValue } from './types.ts'
import type { QueryCursor, SqlValue } from '../ports.ts'

/** A result column as RowDescription reports it. */
export interface ResultColumn {
  name: string
  oid: number
}

/** An open result: described columns and a lazy row iterator, with one row of look-ahead. */
export interface ResultSet {
  columns: ResultColumn[]
  /** The next row, or `undefined` when done. */
  next(): SqlValue[] | undefined
  close(): void
}

/**
 * The name PostgreSQL gives an unaliased computed column: SQLite names it by its text (`count(*)`,
 * `1`), PostgreSQL by the function (`count`) or `?column?` for a literal.
 */
export function computedName (name: string): string {
  const call = /^\s*(?:\w+\.)?(\w+)\s*\([\s\S]*\)\s*$/.exec(name)
  if (call !== null) return (call[1] as string).toLowerCase()
  if (/^\s*(?:[-+]?\d+(?:\.\d*)?(?:e[-+]?\d+)?|'(?:[^']|'')*'|[xX]'[0-9a-fA-F]*'|NULL|TRUE|FALSE)\s*$/i.test(name)) return '?column?'
  // An operator expression (`1 + 1`, `'a' || b`); an alias would rarely contain these characters.
  if (/[-+*/%|<>=!'()]/.test(name)) return '?column?'
  return name
}

/**
 * Wraps a store cursor. Columns with a declared type get its OID; computed columns (no declared
 * type) take the OID of the first row's value, so `count(*)` is an int8 and `1.5` a float8. `peek`
 * says whether to fetch that first row: always (`run`), swallowing errors (`try`), or not (`never`).
 */
export function resultFromCursor (
  cursor: QueryCursor,
  declToOid: (decl: string | null) => number | undefined = () => undefined,
  peek: 'run' | 'try' | 'never' = 'run'
): ResultSet {
  let first: IteratorResult<SqlValue[]> | undefined
  const needsPeek = peek !== 'never' && cursor.columns.some((c) => c.type == null || c.type === '')
  if (needsPeek) {
    try {
      first = cursor.rows.next()
    } catch (err) {
      // 'try' (describing with NULL parameters): an error just means no sample row.
      if (peek === 'run') throw err
      first = { done: true, value: undefined }
    }
  }
  const firstRow = first !== undefined && first.done !== true ? first.value : undefined
  const columns = cursor.columns.map((c, i) => {
    const byCatalog = declToOid(c.type)
    if (byCatalog !== undefined) return { name: c.name, oid: byCatalog }
    if (c.type == null || c.type === '') return { name: computedName(c.name), oid: firstRow === undefined ? OID.text : oidForValue(firstRow[i]) }
    return { name: c.name, oid: oidForDeclaredType(c.type) }
  })
  let pending = first
  let done = false
  return {
    columns,
    next () {
      if (done) return undefined
      let r: IteratorResult<SqlValue[]>
      if (pending !== undefined) {
        r = pending
        pending = undefined
      } else {
        r = cursor.rows.next()
      }
      if (r.done === true) {
        done = true
        cursor.close()
        return undefined
      }
      return r.value
    },
    close () {
      if (done) return
      done = true
      cursor.close()
    }
  }
}

/** A result held in memory (SHOW, synthesised answers). */
export function resultFromRows (columns: ResultColumn[], rows: SqlValue[][]): ResultSet {
  let i = 0
  return {
    columns,
    next: () => rows[i++],
    close: () => { i = rows.length }
  }
}

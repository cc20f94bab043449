import { OID, oidForDeclaredType, oidForValue } from './types.ts'
import type { ColumnInfo, QueryCursor, SqlValue } from '../ports.ts'

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

/** Rows a typed result looks at before describing its computed columns. */
export const TYPE_SAMPLE_ROWS = 256

const isComputed = (c: ColumnInfo): boolean => c.type == null || c.type === ''

/** Whether a result has columns without a declared type (typed by {@link typedQuerySql}). */
export function hasComputedColumns (columns: readonly ColumnInfo[]): boolean {
  return columns.some(isComputed)
}

/**
 * The read `sql` (with result `columns`) wrapped so that each row also carries `typeof()` of every
 * computed column: the store port hands REAL 1.0 and INTEGER 1 over as the same JS number, and
 * PostgreSQL clients need to know which one a column holds. Parameters keep their order.
 */
export function typedQuerySql (sql: string, columns: readonly ColumnInfo[]): string {
  const names = columns.map((_, i) => `"__c${i}"`)
  const types = columns.flatMap((c, i) => isComputed(c) ? [`typeof(${names[i] as string})`] : [])
  return `WITH "__pg_typed"(${names.join(', ')}) AS (\n${sql}\n) SELECT ${[...names, ...types].join(', ')} FROM "__pg_typed"`
}

function oidForClasses (classes: ReadonlySet<string>): number {
  if (classes.size === 0) return OID.text
  if (classes.size === 1) {
    const [only] = classes
    return only === 'integer' ? OID.int8 : only === 'real' ? OID.float8 : only === 'blob' ? OID.bytea : OID.text
  }
  // INTEGER and REAL together are numbers (PostgreSQL would resolve int and float to float8);
  // any other mix has no common type but text.
  if (classes.size === 2 && classes.has('integer') && classes.has('real')) return OID.float8
  return OID.text
}

/**
 * Like {@link resultFromCursor} over a cursor opened with {@link typedQuerySql}: `columns` are the
 * original read's columns. A computed column is typed by the SQLite storage classes of its values
 * in the first {@link TYPE_SAMPLE_ROWS} rows: all INTEGER → int8, REAL (or INTEGER and REAL) →
 * float8, TEXT → text, BLOB → bytea, a mix → text (each value sent as its text), none → text.
 */
export function resultFromTypedCursor (columns: readonly ColumnInfo[], cursor: QueryCursor, peek: 'run' | 'try'): ResultSet {
  const n = columns.length
  const computed = columns.flatMap((c, i) => isComputed(c) ? [i] : [])
  const classes = computed.map(() => new Set<string>())
  const sample: SqlValue[][] = []
  let done = false
  try {
    while (sample.length < TYPE_SAMPLE_ROWS) {
      const r = cursor.rows.next()
      if (r.done === true) { done = true; break }
      const row = r.value
      for (let k = 0; k < computed.length; k++) {
        const cls = row[n + k]
        if (typeof cls === 'string' && cls !== 'null') (classes[k] as Set<string>).add(cls)
      }
      sample.push(row.length > n ? row.slice(0, n) : row)
    }
  } catch (err) {
    if (peek === 'run') { cursor.close(); throw err }
    sample.length = 0
    done = true
  }
  if (done) cursor.close()
  const oids = new Map(computed.map((i, k) => [i, oidForClasses(classes[k] as Set<string>)]))
  const described = columns.map((c, i) => {
    const oid = oids.get(i)
    return oid !== undefined ? { name: computedName(c.name), oid } : { name: c.name, oid: oidForDeclaredType(c.type) }
  })
  let at = 0
  let closed = false
  return {
    columns: described,
    next () {
      if (at < sample.length) return sample[at++]
      if (done || closed) return undefined
      const r = cursor.rows.next()
      if (r.done === true) { done = true; cursor.close(); return undefined }
      return r.value.length > n ? r.value.slice(0, n) : r.value
    },
    close () {
      closed = true
      at = sample.length
      if (!done) { done = true; cursor.close() }
    }
  }
}

import { PgParameterError, PgUnknownObjectError } from './errors.ts'
import { parseCopyCsv, parseCopyText } from './copy-format.ts'
import { decodeParam, oidForDeclaredType } from './types.ts'
import type { CopyStatement } from './copy-format.ts'
import type { SchemaInfo, Statement, TableColumn } from '../ports.ts'

/** A `COPY … FROM STDIN` in progress: where rows go and the data received so far. */
export interface CopyInState {
  copy: CopyStatement
  table: string
  columns: TableColumn[]
  chunks: Buffer[]
  size: number
  /** Set when the data passed the size limit; the COPY fails at CopyDone. */
  overflow: boolean
}

const quote = (name: string): string => `"${name.replaceAll('"', '""')}"`

/** Resolves the target table and columns of a COPY FROM against the schema. */
export function startCopyIn (copy: CopyStatement, schema: SchemaInfo): CopyInState {
  const name = copy.table ?? ''
  const table = schema.tables.find((t) => t.name === name) ?? schema.tables.find((t) => t.name.toLowerCase() === name.toLowerCase())
  if (table === undefined) throw new PgUnknownObjectError(`no such table: ${name}`, { sqlState: '42P01' })
  const columns = copy.columns === null
    ? table.columns
    : copy.columns.map((c) => {
      const col = table.columns.find((x) => x.name.toLowerCase() === c.toLowerCase())
      if (col === undefined) throw new PgUnknownObjectError(`column "${c}" of relation "${table.name}" does not exist`, { sqlState: '42703' })
      return col
    })
  return { copy, table: table.name, columns, chunks: [], size: 0, overflow: false }
}

/** Appends CopyData, keeping at most `limit` bytes. */
export function addCopyData (state: CopyInState, data: Buffer, limit: number): void {
  if (state.overflow) return
  if (state.size + data.length > limit) {
    state.overflow = true
    state.chunks = []
    return
  }
  state.chunks.push(data)
  state.size += data.length
}

/**
 * Turns the received data into one INSERT per row, with each field decoded for its column's
 * declared type (so `t`/`f` become booleans and `\x…` bytes). Throws a typed error naming the line.
 */
export function copyInStatements (state: CopyInState, limit: number): Statement[] {
  if (state.overflow) throw new PgParameterError(`COPY data exceeds the limit of ${limit} bytes; split it into several COPY commands`, { sqlState: '54000' })
  const data = Buffer.concat(state.chunks, state.size).toString('utf8')
  const { copy } = state
  let rows = copy.format === 'csv' ? parseCopyCsv(data, copy) : parseCopyText(data, copy)
  if (copy.header) rows = rows.slice(1)
  const sql = `INSERT INTO ${quote(state.table)} (${state.columns.map((c) => quote(c.name)).join(', ')}) VALUES (${state.columns.map(() => '?').join(', ')})`
  const oids = state.columns.map((c) => oidForDeclaredType(c.type))
  return rows.map((fields, index) => {
    const where = `COPY ${state.table}, line ${index + 1 + (copy.header ? 1 : 0)}`
    if (fields.length !== state.columns.length) {
      const what = fields.length > state.columns.length ? 'extra data after last expected column' : `missing data for column "${state.columns[fields.length]?.name ?? '?'}"`
      throw new PgParameterError(`${where}: ${what}`, { sqlState: '22P04' })
    }
    const params = fields.map((f, i) => {
      try {
        return decodeParam(f === null ? null : Buffer.from(f, 'utf8'), 0, oids[i] as number, i)
      } catch (err) {
        const detail = (err as Error).message.replace(/^parameter \$\d+: /, '')
        throw new PgParameterError(`${where}, column ${state.columns[i]?.name ?? '?'}: ${detail}`, { cause: err })
      }
    })
    return { sql, params }
  })
}

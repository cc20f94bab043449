import { Eta } from 'eta'
import { hostname } from 'node:os'
import { TemplateError } from './errors.ts'

/** A query a template ran: its SQL and parameters. */
export interface TemplateQuery { sql: string; params: unknown[] }

/** Runs a query for a template; resolves with column names and rows. */
export type TemplateSql = (sql: string, params: unknown[]) => Promise<{ columns: string[]; rows: unknown[][] }>

/** Rows as a template sees them: objects keyed by column, plus helpers. */
export interface TemplateRows extends Array<Record<string, unknown>> {
  columns: string[]
  toJSON(): unknown
  toCsv(): string
}

/** The result of one render. */
export interface RenderResult { output: string; queries: TemplateQuery[] }

// No auto-trim: a config file template's newlines come out as written (use `-%>` to trim).
const eta = new Eta({ autoEscape: false, autoTrim: false, useWith: false, varName: 'it' })

function csvCell (v: unknown): string {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v)
  return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s
}

/**
 * Renders an eta template. Inside it, `await it.sql(query, params?)` returns the rows (objects by
 * column name, with `.columns`, `.toCsv()`), and `it.hostname()` the machine name. Every query run is
 * reported so the caller can subscribe to it and re-render on change.
 */
export async function renderTemplate (source: string, sql: TemplateSql, extra: Record<string, unknown> = {}): Promise<RenderResult> {
  const queries: TemplateQuery[] = []
  const data = {
    ...extra,
    hostname: () => hostname(),
    sql: async (query: string, params: unknown[] = []): Promise<TemplateRows> => {
      if (typeof query !== 'string') throw new TemplateError('sql() needs a query string')
      queries.push({ sql: query, params })
      const { columns, rows } = await sql(query, params)
      const objects = rows.map(r => Object.fromEntries(columns.map((c, i) => [c, r[i] ?? null])))
      const out = objects as TemplateRows
      Object.defineProperty(out, 'columns', { value: columns, enumerable: false })
      Object.defineProperty(out, 'toJSON', { value: () => [...objects], enumerable: false })
      Object.defineProperty(out, 'toCsv', { value: () => [columns.map(csvCell).join(','), ...rows.map(r => r.map(csvCell).join(','))].join('\n') + '\n', enumerable: false })
      return out
    }
  }
  try {
    const output = await eta.renderStringAsync(source, data)
    return { output, queries }
  } catch (err) {
    if ((err as Error).name === 'TemplateError' || (err as Error).name === 'ApiRequestError') throw err
    throw new TemplateError(`template failed: ${(err as Error).message}`, { cause: err })
  }
}

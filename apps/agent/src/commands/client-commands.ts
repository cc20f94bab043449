import { InvalidArgumentError, Option, type Command } from 'commander'
import { configFrom, type CliIo, type GlobalOptions } from '../cli.ts'
import { apiPost, apiQuery, ndjson, type ApiTarget, type CliStatement } from './api-client.ts'
import { formatPlainRow, formatTable } from './output.ts'
import { ApiRequestError } from '../errors.ts'

function collect (value: string, previous: string[]): string[] {
  return [...previous, value]
}

function target (cmd: Command, io: CliIo): ApiTarget {
  const config = configFrom(cmd.optsWithGlobals<GlobalOptions>(), io)
  return { addr: config.api.addr[0] ?? '127.0.0.1:8080', bearerToken: config.api.bearerToken }
}

function statement (sql: string, params: string[]): CliStatement {
  return params.length === 0 ? sql : [sql, params]
}

/** `--timeout <seconds>`: a non-negative integer (the API's `?timeout=`; 0 = no timeout). */
function seconds (value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a whole number of seconds (0 = no timeout)')
  return Number(value)
}

/** `path` with the API's `?timeout=` query parameter when one was given. */
function withTimeout (path: string, timeout: number | undefined): string {
  return timeout === undefined ? path : `${path}?timeout=${timeout}`
}

/** Registers `exec`, `query` and `subscribe`: HTTP API clients. */
export function registerClientCommands (program: Command, io: CliIo): void {
  program.command('exec')
    .description('run a write statement in one transaction (POST /v1/transactions)')
    .argument('<sql>', 'SQL statement')
    .option('-p, --param <value>', 'positional parameter (repeatable; sent as text)', collect, [])
    .option('--timer', 'print the time taken')
    .option('--timeout <seconds>', 'interrupt the transaction after this many seconds (the API\'s ?timeout=)', seconds)
    .option('--json', 'print the raw JSON response')
    .action(async (sql: string, opts: { param: string[]; timer?: boolean; timeout?: number; json?: boolean }, cmd: Command) => {
      const t0 = performance.now()
      const res = await apiPost(target(cmd, io), withTimeout('/v1/transactions', opts.timeout), [statement(sql, opts.param)])
      const body = await res.json() as { results: Array<{ rows_affected?: number; error?: string }>; time: number; version?: number | null }
      const firstError = body.results.find(r => r.error !== undefined)
      if (firstError?.error !== undefined) throw new ApiRequestError(firstError.error)
      if (opts.json === true) io.stdout.write(JSON.stringify(body) + '\n')
      else io.stdout.write(`Rows affected: ${body.results.map(r => r.rows_affected ?? 0).join(', ')}${body.version != null ? ` (version ${body.version})` : ''}\n`)
      if (opts.timer === true) io.stderr.write(`Run time: ${((performance.now() - t0) / 1000).toFixed(3)}s\n`)
    })

  program.command('query')
    .description('run a read-only query (POST /v1/queries)')
    .argument('<sql>', 'SQL query')
    .option('-p, --param <value>', 'positional parameter (repeatable; sent as text)', collect, [])
    .option('--columns', 'print the column names as a first a|b|c line')
    .option('--table', 'print an aligned table with a header instead (for people; NULL shown as NULL)')
    .option('--timer', 'print the time taken')
    .option('--timeout <seconds>', 'stop the query after this many seconds (the API\'s ?timeout=; default 60 on the node, 0 = none)', seconds)
    .option('--json', 'print one JSON object {"columns":[…],"rows":[[…],…]} (blobs as arrays of byte values)')
    // Accepted for scripts written against earlier versions: a|b|c lines are now the default.
    .addOption(new Option('--plain').hideHelp())
    .addHelpText('after', '\nDefault output, as Corrosion\'s: one line per row, values joined by |, NULL as an empty field, blobs as x\'hex\'.')
    .action(async (sql: string, opts: { param: string[]; columns?: boolean; table?: boolean; timer?: boolean; timeout?: number; json?: boolean }, cmd: Command) => {
      const t0 = performance.now()
      const { columns, rows } = await apiQuery(target(cmd, io), statement(sql, opts.param), opts.timeout !== undefined ? { timeout: opts.timeout } : {})
      if (opts.json === true) {
        io.stdout.write(JSON.stringify({ columns, rows }) + '\n')
      } else if (opts.table === true) {
        io.stdout.write(formatTable(columns, rows))
      } else {
        if (opts.columns === true) io.stdout.write(columns.join('|') + '\n')
        for (const r of rows) io.stdout.write(formatPlainRow(r) + '\n')
      }
      if (opts.timer === true) io.stderr.write(`Run time: ${((performance.now() - t0) / 1000).toFixed(3)}s\n`)
    })

  program.command('subscribe')
    .description('stream a live query: its rows, then every change (POST /v1/subscriptions)')
    .argument('<sql>', 'SQL query')
    .option('-p, --param <value>', 'positional parameter (repeatable)', collect, [])
    .option('--from <changeId>', 'resume after this change id')
    .option('--json', 'print the raw NDJSON events')
    .option('--max-events <n>', 'stop after this many change events', (v: string) => Number(v))
    .action(async (sql: string, opts: { param: string[]; from?: string; json?: boolean; maxEvents?: number }, cmd: Command) => {
      const path = opts.from !== undefined ? `/v1/subscriptions?from=${encodeURIComponent(opts.from)}` : '/v1/subscriptions'
      const abort = new AbortController()
      const onSig = (): void => { abort.abort() }
      process.once('SIGINT', onSig)
      try {
        const res = await apiPost(target(cmd, io), path, statement(sql, opts.param), { signal: abort.signal })
        const id = res.headers.get('corro-query-id')
        if (opts.json !== true && id !== null) io.stderr.write(`subscription ${id}\n`)
        let changes = 0
        for await (const ev of ndjson(res)) {
          if (opts.json === true) io.stdout.write(JSON.stringify(ev) + '\n')
          else io.stdout.write(describeEvent(ev) + '\n')
          if ((ev as Record<string, unknown>).change !== undefined && opts.maxEvents !== undefined && ++changes >= opts.maxEvents) break
          if ((ev as Record<string, unknown>).error !== undefined) throw new ApiRequestError(String((ev as { error: unknown }).error))
        }
      } catch (err) {
        if ((err as Error).name !== 'AbortError') throw err
      } finally {
        process.off('SIGINT', onSig)
        abort.abort()
      }
    })
}

function describeEvent (ev: unknown): string {
  const e = ev as Record<string, unknown>
  if (e.columns !== undefined) return `columns: ${(e.columns as string[]).join(', ')}`
  if (e.row !== undefined) { const [rowid, cells] = e.row as [number, unknown[]]; return `row ${rowid}: ${JSON.stringify(cells)}` }
  if (e.eoq !== undefined) return `end of query (${JSON.stringify(e.eoq)})`
  if (e.change !== undefined) { const [kind, rowid, cells, id] = e.change as [string, number, unknown[], number]; return `change ${id}: ${kind} row ${rowid} ${JSON.stringify(cells)}` }
  if (e.error !== undefined) return `error: ${String(e.error)}`
  return JSON.stringify(ev)
}

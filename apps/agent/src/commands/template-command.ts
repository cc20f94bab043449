import type { Command } from 'commander'
import { readFileSync, renameSync, writeFileSync, watch, type FSWatcher } from 'node:fs'
import { spawn } from 'node:child_process'
import { resolve, dirname, basename, join } from 'node:path'
import { configFrom, type CliIo, type GlobalOptions } from '../cli.ts'
import { apiPost, apiQuery, ndjson, type ApiTarget } from './api-client.ts'
import { renderTemplate, type TemplateQuery } from '../template.ts'
import { TemplateError } from '../errors.ts'

/** One `src:dst[:cmd]` argument. */
export interface TemplateSpec { src: string; dst: string; cmd?: string }

/** Parses `src:dst[:cmd]` (the command may itself contain colons). */
export function parseTemplateSpec (arg: string): TemplateSpec {
  const [src, dst, ...rest] = arg.split(':')
  if (src === undefined || src === '' || dst === undefined || dst === '') throw new TemplateError(`expected <src>:<dst>[:<cmd>], got ${JSON.stringify(arg)}`)
  return { src: resolve(src), dst: resolve(dst), ...(rest.length > 0 ? { cmd: rest.join(':') } : {}) }
}

function writeAtomic (path: string, text: string): void {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`)
  writeFileSync(tmp, text)
  renameSync(tmp, path)
}

async function runCommand (cmd: string, io: CliIo): Promise<void> {
  await new Promise<void>(resolve => {
    const child = spawn(cmd, { shell: true, stdio: ['ignore', 'inherit', 'inherit'] })
    child.on('exit', code => {
      if (code !== 0) io.stderr.write(`template command exited with ${code}: ${cmd}\n`)
      resolve()
    })
    child.on('error', err => { io.stderr.write(`template command failed: ${err.message}\n`); resolve() })
  })
}

/**
 * Keeps one template rendered: renders, writes atomically, runs the command; then subscribes to every
 * query the template ran and re-renders (debounced) on any change or when the source file changes.
 */
export async function runTemplate (spec: TemplateSpec, target: ApiTarget, io: CliIo, options: { once?: boolean; signal: AbortSignal; debounceMs?: number; onRender?: (output: string) => void }): Promise<void> {
  const subscribed = new Map<string, AbortController>()
  let timer: NodeJS.Timeout | undefined
  let rendering = Promise.resolve()
  let last: string | undefined
  const render = async (): Promise<TemplateQuery[]> => {
    const source = readFileSync(spec.src, 'utf8')
    const { output, queries } = await renderTemplate(source, async (sql, params) => await apiQuery(target, params.length > 0 ? [sql, params] : sql, { signal: options.signal }))
    // Only a changed output is written and announced to the command.
    if (output !== last) {
      last = output
      writeAtomic(spec.dst, output)
      options.onRender?.(output)
      if (spec.cmd !== undefined) await runCommand(spec.cmd, io)
    }
    return queries
  }
  const schedule = (): void => {
    if (timer !== undefined) clearTimeout(timer)
    timer = setTimeout(() => {
      timer = undefined
      rendering = rendering.then(async () => { await subscribe(await render()) }).catch((err: unknown) => {
        io.stderr.write(`template ${spec.src}: ${(err as Error).message}\n`)
      })
    }, options.debounceMs ?? 100)
  }
  /** Subscribes to new queries; resolves once each has sent its initial rows (or failed). */
  const subscribe = async (queries: TemplateQuery[]): Promise<void> => {
    const ready: Array<Promise<void>> = []
    for (const q of queries) {
      const key = JSON.stringify(q)
      if (subscribed.has(key)) continue
      const ac = new AbortController()
      subscribed.set(key, ac)
      const signal = AbortSignal.any([ac.signal, options.signal])
      let markReady!: () => void
      ready.push(new Promise<void>(resolve => { markReady = resolve }))
      void (async () => {
        try {
          const res = await apiPost(target, '/v1/subscriptions', q.params.length > 0 ? [q.sql, q.params] : q.sql, { signal })
          for await (const ev of ndjson(res)) {
            const e = ev as Record<string, unknown>
            if (e.eoq !== undefined) markReady()
            if (e.change !== undefined) schedule()
          }
        } catch (err) {
          if (!signal.aborted) io.stderr.write(`template ${spec.src}: subscription ended: ${(err as Error).message}\n`)
        }
        markReady()
        subscribed.delete(key)
      })()
    }
    await Promise.all(ready)
  }
  const queries = await render()
  if (options.once === true) return
  await subscribe(queries)
  // A change between the first render and the subscriptions being live would be missed otherwise.
  schedule()
  let watcher: FSWatcher | undefined
  try {
    watcher = watch(spec.src, () => { schedule() })
  } catch { /* watching is best effort */ }
  await new Promise<void>(resolve => {
    if (options.signal.aborted) { resolve(); return }
    options.signal.addEventListener('abort', () => { resolve() }, { once: true })
  })
  watcher?.close()
  if (timer !== undefined) clearTimeout(timer)
  for (const ac of subscribed.values()) ac.abort()
  await rendering
}

/** Registers `template`. */
export function registerTemplateCommand (program: Command, io: CliIo): void {
  program.command('template')
    .description('render eta templates from live query results; re-render on change (src:dst[:cmd])')
    .argument('<specs...>', 'template source, destination and optional command run after each write')
    .option('-o, --once', 'render once and exit')
    .action(async (specs: string[], opts: { once?: boolean }, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>(), io)
      const target: ApiTarget = { addr: config.api.addr[0] ?? '127.0.0.1:8080', bearerToken: config.api.bearerToken }
      const parsed = specs.map(parseTemplateSpec)
      const abort = new AbortController()
      const stop = (): void => { abort.abort() }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
      try {
        await Promise.all(parsed.map(async spec => { await runTemplate(spec, target, io, { ...(opts.once !== undefined ? { once: opts.once } : {}), signal: abort.signal }) }))
      } finally {
        process.off('SIGINT', stop)
        process.off('SIGTERM', stop)
      }
    })
}

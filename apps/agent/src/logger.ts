import { pino, type Logger, type DestinationStream } from 'pino'
import { Writable } from 'node:stream'

/** Logger options: `[log]` plus where to write. */
export interface LoggerInit {
  format: 'plaintext' | 'json'
  colors?: boolean
  level?: string
  /** Destination (default stderr). */
  destination?: NodeJS.WritableStream
  /** Fields on every line (e.g. node name). */
  base?: Record<string, unknown>
}

const LEVEL_NAMES: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' }
const LEVEL_COLORS: Record<number, string> = { 10: '90', 20: '36', 30: '32', 40: '33', 50: '31', 60: '35' }

/** A pino logger writing JSON lines or human plaintext lines, as `[log] format` says. */
export function createLogger (init: LoggerInit): Logger {
  const dest = init.destination ?? process.stderr
  const options = { level: init.level ?? 'info', base: init.base ?? null }
  if (init.format === 'json') return pino(options, dest as DestinationStream)
  return pino(options, plaintextStream(dest, init.colors ?? false))
}

function plaintextStream (dest: NodeJS.WritableStream, colors: boolean): DestinationStream {
  const format = (line: string): string => {
    let rec: Record<string, unknown>
    try { rec = JSON.parse(line) as Record<string, unknown> } catch { return line }
    const { level, time, msg, ...rest } = rec
    const lvl = typeof level === 'number' ? level : 30
    let name = (LEVEL_NAMES[lvl] ?? String(level)).padEnd(5)
    if (colors) name = `\x1b[${LEVEL_COLORS[lvl] ?? '0'}m${name}\x1b[0m`
    const ts = typeof time === 'number' ? new Date(time).toISOString() : ''
    const fields = Object.entries(rest).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ')
    return `${ts} ${name} ${typeof msg === 'string' ? msg : ''}${fields === '' ? '' : ' ' + fields}\n`
  }
  return new Writable({
    write (chunk: Buffer | string, _enc, cb) {
      const text = chunk.toString()
      let out = ''
      for (const line of text.split('\n')) if (line !== '') out += format(line)
      dest.write(out)
      cb()
    }
  }) as unknown as DestinationStream
}

export type { Logger }

/** Test helpers: a real listening server over the real SQLite test store, and an NDJSON reader. */
import { createApiServer } from '../../src/index.ts'
import { createSqliteApiStore } from './sqlite-store.ts'
import type { ApiServer, ApiServerInit } from '../../src/index.ts'
import type { SqliteApiStore } from './sqlite-store.ts'

/** A started server with its store. */
export interface Harness {
  server: ApiServer
  store: SqliteApiStore
  url: string
  close(): Promise<void>
}

/** Starts a server on 127.0.0.1:0 over a fresh store with `schema`. */
export async function startHarness (schema: string, init: Partial<ApiServerInit> = {}, store?: SqliteApiStore): Promise<Harness> {
  const s = store ?? createSqliteApiStore({ schema })
  const server = createApiServer({ store: s, addr: '127.0.0.1:0', ...init })
  const { host, port } = await server.start()
  return {
    server,
    store: s,
    url: `http://${host}:${port}`,
    async close () { await server.stop(); if (store == null) s.close() }
  }
}

/** POSTs `body` as JSON. */
export async function post (url: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return postRaw(url, JSON.stringify(body), headers)
}

/** POSTs raw text (for malformed bodies). */
export async function postRaw (url: string, text: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: text })
}

/** Reads an NDJSON body event by event. */
export class NdjsonReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>
  private buf = ''
  private readonly decoder = new TextDecoder()
  private readonly queue: unknown[] = []
  done = false

  constructor (res: Response) {
    if (res.body == null) throw new Error('no body')
    this.reader = res.body.getReader()
  }

  /** The next event, or null at end of stream; throws after `timeoutMs`. */
  async next (timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs
    while (this.queue.length === 0) {
      if (this.done) return null
      const left = deadline - Date.now()
      if (left <= 0) throw new Error('timed out waiting for an event')
      let timer: NodeJS.Timeout | undefined
      const r = await Promise.race([
        this.reader.read(),
        new Promise<'timeout'>(resolve => { timer = setTimeout(() => resolve('timeout'), left) })
      ])
      clearTimeout(timer)
      if (r === 'timeout') throw new Error('timed out waiting for an event')
      if (r.done) { this.done = true; if (this.buf.trim() !== '') this.queue.push(JSON.parse(this.buf)); this.buf = ''; continue }
      this.buf += this.decoder.decode(r.value, { stream: true })
      let i
      while ((i = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, i)
        this.buf = this.buf.slice(i + 1)
        if (line.trim() !== '') this.queue.push(JSON.parse(line))
      }
    }
    return this.queue.shift()
  }

  /** Reads events until `pred` matches one; returns all read. */
  async until (pred: (e: any) => boolean, timeoutMs = 5000): Promise<any[]> {
    const out: any[] = []
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const e = await this.next(Math.max(1, deadline - Date.now()))
      if (e == null) throw new Error(`stream ended before the expected event; got ${JSON.stringify(out)}`)
      out.push(e)
      if (pred(e)) return out
    }
  }

  async cancel (): Promise<void> { await this.reader.cancel().catch(() => {}) }
}

/** Polls `fn` until it returns truthy or the deadline passes. */
export async function waitFor<T> (fn: () => T | Promise<T>, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setImmediate(resolve))
  }
}

/** Reads an NDJSON stream in the background into an array. */
export function collect (res: Response): { events: any[], stop: () => Promise<void> } {
  const events: any[] = []
  const reader = res.body!.getReader()
  const dec = new TextDecoder()
  let buf = ''
  const loop = (async () => {
    for (;;) {
      const r = await reader.read().catch(() => ({ done: true as const, value: undefined }))
      if (r.done) return
      buf += dec.decode(r.value, { stream: true })
      let i
      while ((i = buf.indexOf('\n')) >= 0) { events.push(JSON.parse(buf.slice(0, i))); buf = buf.slice(i + 1) }
    }
  })()
  return { events, async stop () { await reader.cancel().catch(() => {}); await loop } }
}

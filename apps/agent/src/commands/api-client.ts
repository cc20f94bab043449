import { ApiRequestError } from '../errors.ts'

/** Where the CLI reaches a node's HTTP API. */
export interface ApiTarget {
  /** `host:port` */
  addr: string
  bearerToken?: string | null
}

/** A `[sql, params]` statement as the HTTP API accepts it. */
export type CliStatement = string | [string, unknown[]]

function url (target: ApiTarget, path: string): string {
  const host = target.addr.startsWith('0.0.0.0:') ? target.addr.replace('0.0.0.0', '127.0.0.1') : target.addr
  return `http://${host}${path}`
}

/** POSTs JSON to the API; throws ApiRequestError with the server's error message on a non-2xx status. */
export async function apiPost (target: ApiTarget, path: string, body: unknown, options?: { signal?: AbortSignal }): Promise<Response> {
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (target.bearerToken != null) headers.authorization = `Bearer ${target.bearerToken}`
  let res: Response
  try {
    res = await fetch(url(target, path), { method: 'POST', headers, body: JSON.stringify(body), ...(options?.signal !== undefined ? { signal: options.signal } : {}) })
  } catch (err) {
    throw new ApiRequestError(`cannot reach the node's API at ${target.addr} (${((err as Error).cause as Error | undefined)?.message ?? (err as Error).message}); is the node running?`, undefined, { cause: err })
  }
  if (!res.ok) {
    const text = await res.text()
    let msg = text
    try { msg = (JSON.parse(text) as { error?: string }).error ?? text } catch { /* plain text body */ }
    throw new ApiRequestError(`${res.status}: ${msg}`, res.status)
  }
  return res
}

/** Reads an NDJSON response body line by line. */
export async function * ndjson (res: Response): AsyncGenerator<unknown> {
  if (res.body === null) return
  const decoder = new TextDecoder()
  let buf = ''
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true })
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, nl).trim()
      buf = buf.slice(nl + 1)
      if (line !== '') yield JSON.parse(line)
    }
  }
  if (buf.trim() !== '') yield JSON.parse(buf)
}

/** Result of a read through `/v1/queries`. */
export interface QueryRows { columns: string[]; rows: unknown[][] }

/** Runs a query through `POST /v1/queries` and collects its rows; an `error` event throws. */
export async function apiQuery (target: ApiTarget, statement: CliStatement, options?: { signal?: AbortSignal; timeout?: number }): Promise<QueryRows> {
  const path = options?.timeout !== undefined ? `/v1/queries?timeout=${options.timeout}` : '/v1/queries'
  const res = await apiPost(target, path, statement, options?.signal !== undefined ? { signal: options.signal } : undefined)
  const out: QueryRows = { columns: [], rows: [] }
  for await (const ev of ndjson(res)) {
    const e = ev as Record<string, unknown>
    if ('columns' in e) out.columns = e.columns as string[]
    else if ('row' in e) out.rows.push((e.row as [number, unknown[]])[1])
    else if ('error' in e) throw new ApiRequestError(String(e.error))
  }
  return out
}

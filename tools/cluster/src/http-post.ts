import { Agent, request } from 'node:http'

/** One HTTP response, read whole. */
export interface PostResult {
  status: number
  text: string
}

// Keep-alive connections shared by every call: a harness driving thousands of writes per second
// must not spend the CPU of the system under test on connection set-up (or on fetch's streams).
const agent = new Agent({ keepAlive: true, maxSockets: 64 })

/** GETs `http://addr/path` and returns the body; a status other than 200 throws. */
export async function getText (addr: string, path: string, signal?: AbortSignal): Promise<string> {
  const res = await exchange(addr, path, 'GET', undefined, signal)
  if (res.status !== 200) throw new Error(`GET ${path} on ${addr}: HTTP ${res.status}`)
  return res.text
}

/** POSTs `body` as JSON to `http://addr/path` and reads the whole response. */
export async function postJson (addr: string, path: string, body: unknown, signal?: AbortSignal): Promise<PostResult> {
  return await exchange(addr, path, 'POST', Buffer.from(JSON.stringify(body)), signal)
}

/** One request over the shared keep-alive agent (a JSON body when given), the whole response read. */
async function exchange (addr: string, path: string, method: 'GET' | 'POST', payload: Buffer | undefined, signal?: AbortSignal): Promise<PostResult> {
  const sep = addr.lastIndexOf(':')
  return await new Promise<PostResult>((resolve, reject) => {
    const req = request({
      host: addr.slice(0, sep),
      port: Number(addr.slice(sep + 1)),
      path,
      method,
      agent,
      ...(payload !== undefined ? { headers: { 'content-type': 'application/json', 'content-length': payload.length } } : {}),
      ...(signal !== undefined ? { signal } : {})
    }, res => {
      const parts: Buffer[] = []
      res.on('data', (b: Buffer) => parts.push(b))
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text: Buffer.concat(parts).toString('utf8') }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(payload)
  })
}

/** A minimal keep-alive HTTP client for the benchmarks (node:http, fixed socket pool). */
import { Agent, request } from 'node:http'

/** POSTs `body` and resolves with status and text. */
export function postText (agent: Agent, port: number, path: string, body: string): Promise<{ status: number, text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (c: string) => { text += c })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, text }) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(body)
  })
}

/** A keep-alive agent with `sockets` connections. */
export function keepAliveAgent (sockets: number): Agent {
  return new Agent({ keepAlive: true, maxSockets: sockets })
}

/** Prints one benchmark JSON line. */
export function report (bench: string, metric: string, value: number, unit: string, baseline: number | null, ratio: number | null): void {
  // Three significant digits, so small ratios stay visible.
  const round = (x: number | null): number | null => x == null || !Number.isFinite(x) ? x : Number(x.toPrecision(3))
  console.log(JSON.stringify({ bench, metric, value: round(value), unit, baseline: round(baseline), ratio: round(ratio) }))
}

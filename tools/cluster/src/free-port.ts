import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

/** A port the OS considers free right now, on 127.0.0.1, for UDP or TCP. */
export async function freePort (kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = createSocket('udp4')
    await new Promise<void>((resolve, reject) => { s.once('error', reject); s.bind(0, '127.0.0.1', () => { resolve() }) })
    const { port } = s.address()
    await new Promise<void>(resolve => { s.close(() => { resolve() }) })
    return port
  }
  const srv = createServer()
  await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(0, '127.0.0.1', () => { resolve() }) })
  const addr = srv.address()
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0
  await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  return port
}

/** `count` distinct free ports. */
export async function freePorts (kind: 'udp' | 'tcp', count: number): Promise<number[]> {
  const out = new Set<number>()
  for (let tries = 0; out.size < count && tries < count * 20; tries++) out.add(await freePort(kind))
  return [...out]
}

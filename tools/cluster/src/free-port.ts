import { createSocket } from 'node:dgram'
import { createServer } from 'node:net'

// Ports are picked below Linux's ephemeral range (32768–60999): a port a node keeps across a kill and
// restart must not be handed to some other process binding port 0 while the node is down.
const LOW = 20_000
const HIGH = 32_000

async function canBind (kind: 'udp' | 'tcp', port: number): Promise<boolean> {
  if (kind === 'udp') {
    const s = createSocket('udp4')
    const ok = await new Promise<boolean>(resolve => { s.once('error', () => { resolve(false) }); s.bind(port, '127.0.0.1', () => { resolve(true) }) })
    await new Promise<void>(resolve => { try { s.close(() => { resolve() }) } catch { resolve() } })
    return ok
  }
  const srv = createServer()
  const ok = await new Promise<boolean>(resolve => { srv.once('error', () => { resolve(false) }); srv.listen(port, '127.0.0.1', () => { resolve(true) }) })
  if (ok) await new Promise<void>(resolve => { srv.close(() => { resolve() }) })
  return ok
}

/** A port on 127.0.0.1 that is free right now, for UDP or TCP, outside the ephemeral range. */
export async function freePort (kind: 'udp' | 'tcp'): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = LOW + Math.floor(Math.random() * (HIGH - LOW))
    if (await canBind(kind, port)) return port
  }
  throw new Error(`no free ${kind} port found in ${LOW}–${HIGH}`)
}

/** `count` distinct free ports. */
export async function freePorts (kind: 'udp' | 'tcp', count: number): Promise<number[]> {
  const out = new Set<number>()
  for (let tries = 0; out.size < count && tries < count * 20; tries++) out.add(await freePort(kind))
  return [...out]
}

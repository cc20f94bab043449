import { afterEach, describe, expect, it } from 'vitest'
import { createSwim, createUdpTransport } from '../src/index.ts'
import type { SwimNode } from '../src/index.ts'
import { encodePacket } from '../src/codec.ts'

const fast = { probeInterval: 200, probeTimeout: 100, indirectChecks: 2, suspicionMult: 3, suspicionMaxTimeoutMult: 4, gossipInterval: 50, retransmitMult: 3, leaveTimeout: 2000, announceInterval: 2000, announceDownInterval: 2000 }

async function waitFor (what: string, fn: () => boolean, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

const nodes: SwimNode[] = []
afterEach(async () => {
  await Promise.all(nodes.splice(0).map(async n => { await n.stop() }))
})

async function cluster (n: number): Promise<SwimNode[]> {
  const first = createSwim({ bind: '127.0.0.1:0', identity: { id: 'u0', meta: new TextEncoder().encode('m0') }, config: fast })
  nodes.push(first)
  await first.start()
  const out = [first]
  for (let i = 1; i < n; i++) {
    const node = createSwim({ bind: '127.0.0.1:0', identity: { id: `u${i}`, meta: new TextEncoder().encode(`m${i}`) }, seeds: [first.addr], config: fast })
    nodes.push(node)
    await node.start()
    out.push(node)
  }
  await waitFor('all five to see each other', () => out.every(node => node.members().filter(m => m.state === 'alive').length === n - 1))
  return out
}

describe('UDP driver on 127.0.0.1', () => {
  it('five members find each other, a killed one is marked down by all others', async () => {
    const c = await cluster(5)
    const ups: string[] = []
    c[0]!.addEventListener('member:down', (e) => { ups.push(e.detail.id) })
    expect(c[1]!.members().find(m => m.id === 'u2')?.meta).toEqual(new TextEncoder().encode('m2'))
    await c[2]!.stop() // closes the socket, no leave
    await waitFor('u2 down everywhere', () => [0, 1, 3, 4].every(i => c[i]!.members().find(m => m.id === 'u2')?.state === 'down'))
    expect(ups).toEqual(['u2'])
  })

  it('a graceful leave is seen as left, not down', async () => {
    const c = await cluster(5)
    const downs: string[] = []
    for (const n of c) n.addEventListener('member:down', (e) => { downs.push(e.detail.id) })
    await c[3]!.leave()
    await c[3]!.stop()
    await waitFor('u3 left everywhere', () => [0, 1, 2, 4].every(i => c[i]!.members().find(m => m.id === 'u3')?.state === 'left'))
    // stays left (not later turned into down by failed probes)
    await new Promise(resolve => setTimeout(resolve, 1000))
    expect([0, 1, 2, 4].every(i => c[i]!.members().find(m => m.id === 'u3')?.state === 'left')).toBe(true)
    expect(downs).not.toContain('u3')
  })

  it('drops hostile and foreign-cluster packets, counts them and stays up', async () => {
    const c = await cluster(2)
    const errors: string[] = []
    c[0]!.addEventListener('packet:error', (e) => { errors.push(e.detail.error.name) })
    const attacker = await createUdpTransport('127.0.0.1:0')
    try {
      attacker.send(c[0]!.addr, new Uint8Array([1, 2, 3, 4, 5]))
      attacker.send(c[0]!.addr, encodePacket({ clusterId: 9, sender: { id: 'evil', addr: attacker.address, generation: 1, incarnation: 0, known: 1 }, to: '', message: { type: 'gossip' }, updates: [], broadcasts: [] }))
      await waitFor('two rejected packets', () => errors.length === 2)
    } finally {
      attacker.close()
    }
    expect(errors.sort()).toEqual(['ClusterMismatchError', 'MalformedPacketError'])
    expect(c[0]!.packetErrors).toBe(2)
    expect(c[0]!.members().map(m => m.id)).toEqual(['u1'])
  })

  it('a send the socket refuses at once (port 0, bad host) is counted and does not keep the socket open', async () => {
    const t = await createUdpTransport('127.0.0.1:0')
    t.send('127.0.0.1:0', new Uint8Array([1]))
    t.send('no-port', new Uint8Array([1]))
    expect(t.sendErrors).toBe(2)
    t.close()
    // the port is free again only if close() really closed the socket
    let again: Awaited<ReturnType<typeof createUdpTransport>> | undefined
    await waitFor('the port to be free', () => {
      void createUdpTransport(t.address).then(u => { if (again === undefined) again = u; else u.close() }, () => {})
      return again !== undefined
    })
    again?.close()
  })

  it('a user broadcast reaches every member', async () => {
    const c = await cluster(4)
    const got = new Set<number>()
    c.forEach((n, i) => { n.addEventListener('broadcast', (e) => { if (e.detail.key === 'hello') got.add(i) }) })
    c[0]!.broadcast('hello', new TextEncoder().encode('world'))
    await waitFor('broadcast everywhere', () => [1, 2, 3].every(i => got.has(i)))
  })

  it('rejoin after leave comes back up with a newer generation', async () => {
    const c = await cluster(3)
    const gen = c[1]!.self().generation
    await c[1]!.leave()
    await waitFor('left', () => c[0]!.members().find(m => m.id === 'u1')?.state === 'left')
    c[1]!.rejoin()
    await waitFor('back up', () => c[0]!.members().find(m => m.id === 'u1')?.state === 'alive')
    expect(c[0]!.members().find(m => m.id === 'u1')!.generation).toBeGreaterThan(gen)
    expect(c[0]!.members().filter(m => m.id === 'u1')).toHaveLength(1)
  })

  it('rejects a bad setup with typed errors', () => {
    expect(() => createSwim({ identity: { id: 'x' }, config: 'lan' } as never)).toThrow(expect.objectContaining({ name: 'InvalidConfigError' }))
    expect(() => createSwim({ bind: '127.0.0.1:0', identity: { id: '' } })).toThrow(expect.objectContaining({ name: 'InvalidIdentityError' }))
    const n = createSwim({ bind: '127.0.0.1:0', identity: { id: 'x' } })
    expect(() => { n.rejoin() }).toThrow(expect.objectContaining({ name: 'NotStartedError' }))
  })
})

import assert from 'node:assert/strict'
import { multiaddr } from '@multiformats/multiaddr'
import { Tag, WIRE_VERSION, encodeMessage } from '../codec.ts'
import { encodeFrame } from '../frame-decoder.ts'
import { FramedStream } from '../framed-stream.ts'
import { dialerHandshake } from '../handshake.ts'
import type { GossipInit } from '../gossip-node.ts'
import { MemoryVersionStore } from './memory-version-store.ts'
import { connectAll, startCluster, startMember, stopCluster } from './cluster.ts'
import type { ClusterMember, GossipNodeFactory } from './cluster.ts'
import { waitFor } from './wait-for.ts'

/** The test functions of the runner (vitest, mocha, node:test all fit). */
export interface SuiteRunner {
  describe: (name: string, fn: () => void) => void
  it: (name: string, fn: () => Promise<void>, timeoutMs?: number) => void
}

/** One named check of the compliance suite. */
export interface ComplianceCheck {
  name: string
  run: (factory: GossipNodeFactory) => Promise<void>
}

const QUIET_SYNC: GossipInit = { sync: { auto: false } }

function broadcastFrom (m: ClusterMember, data: Uint8Array): string {
  const payload = m.store.write(data)
  const key = MemoryVersionStore.keyOf(payload)
  m.node.broadcast(key, payload)
  return key
}

async function withCluster (n: number, factory: GossipNodeFactory, init: GossipInit, fn: (c: ClusterMember[]) => Promise<void>): Promise<void> {
  const c = await startCluster(n, factory, { init })
  try {
    await fn(c)
  } finally {
    await stopCluster(c)
  }
}

// Raw bytes straight into a protocol handler, bypassing our own encoder.
async function sendRaw (from: ClusterMember, to: ClusterMember, protocol: string, chunks: Uint8Array[], handshake: boolean): Promise<void> {
  const stream = await from.node.libp2p.dialProtocol(multiaddr(to.node.multiaddrs[0] ?? ''), protocol, { signal: AbortSignal.timeout(5000) })
  const fs = new FramedStream(stream, { maxFrameBytes: 1 << 20 })
  try {
    if (handshake) {
      await dialerHandshake(fs, protocol, to.node.peerId, {
        clusterId: 0, localPeerId: from.node.peerId, localAddr: from.node.multiaddrs[0] ?? '', timeoutMs: 5000
      })
    }
    for (const c of chunks) stream.send(c)
    await stream.close({ signal: AbortSignal.timeout(2000) }).catch(() => {})
  } catch {
    // the victim may reset the stream first: that is the expected outcome
  }
}

/** Every check of the suite, runnable without a test framework. */
export const complianceChecks: ComplianceCheck[] = [
  {
    name: 'a broadcast reaches every node exactly once',
    async run (factory) {
      // sync runs too (as in production), so a send lost to a slow first dial still converges
      await withCluster(6, factory, { sync: { minIntervalMs: 500, maxIntervalMs: 1000 } }, async (c) => {
        const keys = c.flatMap((m) => [broadcastFrom(m, new Uint8Array([1])), broadcastFrom(m, new Uint8Array(2000))])
        await waitFor(() => c.every((m) => m.store.size === keys.length), { timeoutMs: 20_000, message: 'broadcast did not reach every node' })
        for (const m of c) {
          assert.equal(new Set(m.delivered).size, m.delivered.length, 'a key reached the application twice')
          for (const k of keys) assert.ok(m.store.has(k))
        }
        const digest = c[0]?.store.digest()
        for (const m of c) assert.equal(m.store.digest(), digest)
      })
    }
  },
  {
    name: 'a node started late catches up through sync alone',
    async run (factory) {
      await withCluster(4, factory, QUIET_SYNC, async (c) => {
        for (const m of c) for (let i = 0; i < 50; i++) broadcastFrom(m, new Uint8Array([i]))
        await waitFor(() => c.every((m) => m.store.size === 200), { message: 'cluster did not converge' })
        const late = await startMember(factory, QUIET_SYNC)
        try {
          late.node.setMembers(c.map((m) => ({ addr: m.node.multiaddrs[0] ?? '' })))
          await waitFor(async () => { await late.node.syncNow(); return late.store.size === 200 }, { message: 'late node did not catch up' })
          assert.equal(late.store.digest(), c[0]?.store.digest())
          assert.equal(late.delivered.length, 0, 'catch-up must not go through broadcast')
        } finally {
          await late.node.stop()
        }
      })
    }
  },
  {
    name: 'a node with the wrong cluster id gets nothing and injects nothing',
    async run (factory) {
      await withCluster(3, factory, { ...QUIET_SYNC, clusterId: 7 }, async (c) => {
        const intruder = await startMember(factory, { ...QUIET_SYNC, clusterId: 8 })
        try {
          await admissionHolds(c, intruder)
        } finally {
          await intruder.node.stop()
        }
      })
    }
  },
  {
    name: 'a node without the cluster secret gets nothing and injects nothing',
    async run (factory) {
      await withCluster(3, factory, { ...QUIET_SYNC, secret: 'right' }, async (c) => {
        const intruder = await startMember(factory, { ...QUIET_SYNC, secret: 'wrong' })
        try {
          await admissionHolds(c, intruder)
        } finally {
          await intruder.node.stop()
        }
      })
    }
  },
  {
    name: 'the SWIM transport delivers packets both ways with the sender address',
    async run (factory) {
      await withCluster(2, factory, QUIET_SYNC, async ([a, b]) => {
        assert.ok(a != null && b != null)
        const atB: Array<[string, string]> = []
        const atA: string[] = []
        b.node.swimTransport.onPacket((bytes, from) => {
          atB.push([new TextDecoder().decode(bytes), from])
          b.node.swimTransport.send(from, new TextEncoder().encode('ack'))
        })
        a.node.swimTransport.onPacket((bytes) => { atA.push(new TextDecoder().decode(bytes)) })
        const bare = (b.node.multiaddrs[0] ?? '').replace(/\/p2p\/.*$/, '')
        // datagram semantics: a packet may be lost to a slow first dial, so repeat like a prober
        await waitFor(() => {
          if (atA.length === 0) a.node.swimTransport.send(bare, new TextEncoder().encode('ping'))
          return atA.length > 0
        }, { timeoutMs: 20_000, intervalMs: 200, message: 'no ack over the SWIM transport' })
        assert.equal(atB[0]?.[0], 'ping')
        assert.ok(atB[0]?.[1].endsWith(`/p2p/${a.node.peerId}`), 'from must name the sender')
        assert.equal(atA[0], 'ack')
      })
    }
  },
  {
    name: 'malformed frames are dropped, counted, and change nothing',
    async run (factory) {
      await withCluster(2, factory, QUIET_SYNC, async ([victim, attacker]) => {
        assert.ok(victim != null && attacker != null)
        broadcastFrom(victim, new Uint8Array([42]))
        await waitFor(() => attacker.store.size === 1)
        const digest = victim.store.digest()
        const garbage = [
          { hs: false, bytes: [new Uint8Array([0xff, 0xff, 0xff, 0xff, 1, 2, 3])] }, // announced 4 GiB
          { hs: false, bytes: [encodeFrame(new Uint8Array([0xc1, 0x00, 0x13]))] }, // not msgpack
          { hs: true, bytes: [encodeFrame(encodeMessage({ tag: Tag.Hello, version: WIRE_VERSION, clusterId: 0, nonce: new Uint8Array(16), addr: '/x' }))] },
          { hs: true, bytes: [encodeFrame(new Uint8Array([0x92, 0x7f, 0x01]))] }, // unknown tag 127
          { hs: true, bytes: [encodeFrame(new Uint8Array([0x92, 0x0a, 0x2a]))] }, // batch whose items are not an array
          { hs: true, bytes: [encodeFrame(encodeMessage({ tag: Tag.Batch, items: [['k', new Uint8Array(1), new Uint8Array(3)]] }))] } // hint not a multiple of 4
        ]
        for (const protocol of ['/patina/broadcast/1.0.0', '/patina/swim/1.0.0', '/patina/sync/1.0.0']) {
          for (const g of garbage) {
            const before = victim.node.stats().framesRejected
            await sendRaw(attacker, victim, protocol, g.bytes, g.hs)
            await waitFor(() => victim.node.stats().framesRejected > before, { timeoutMs: 10_000, message: `no rejection counted on ${protocol}` })
          }
        }
        assert.equal(victim.store.digest(), digest)
        assert.equal(victim.store.size, 1)
        // still serving
        broadcastFrom(attacker, new Uint8Array([43]))
        await waitFor(() => victim.store.size === 2, { message: 'node stopped working after bad input' })
      })
    }
  }
]

async function admissionHolds (c: ClusterMember[], intruder: ClusterMember): Promise<void> {
  const [a] = c
  assert.ok(a != null)
  connectAll(c)
  const all = [...c, intruder]
  for (const m of all) m.node.setMembers(all.filter((o) => o !== m).map((o) => ({ addr: o.node.multiaddrs[0] ?? '', peerId: o.node.peerId })))
  for (let i = 0; i < 20; i++) broadcastFrom(intruder, new Uint8Array([i]))
  for (let i = 0; i < 20; i++) broadcastFrom(a, new Uint8Array([i]))
  await waitFor(() => c.every((m) => m.store.size === 20), { message: 'cluster did not converge' })
  const r1 = await intruder.node.syncNow()
  await a.node.syncNow()
  await waitFor(() => a.node.stats().admissionRejected > 0 && intruder.node.stats().admissionRejected > 0, { message: 'rejections were not counted' })
  assert.equal(r1.chunks, 0)
  assert.equal(intruder.store.size, 20, 'the intruder must only hold its own items')
  for (const m of c) {
    assert.equal(m.store.size, 20, 'a cluster member accepted an intruder item')
    assert.equal(m.delivered.length, m === a ? 0 : 20)
  }
}

/** Register the compliance suite with a test runner, for one transport configuration. */
export function describeGossipCompliance (label: string, factory: GossipNodeFactory, runner: SuiteRunner): void {
  runner.describe(`gossip compliance: ${label}`, () => {
    for (const check of complianceChecks) {
      runner.it(check.name, async () => { await check.run(factory) }, 60_000)
    }
  })
}

import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { BROADCAST_PROTOCOL, SWIM_PROTOCOL, SYNC_PROTOCOL, createGossipNode } from '../src/index.ts'
import { FramedStream } from '../src/framed-stream.ts'
import { dialerHandshake } from '../src/handshake.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'

let victim: ClusterMember
let attacker: ClusterMember
let cluster: ClusterMember[]

beforeAll(async () => {
  cluster = await startCluster(2, async (init) => await createGossipNode({ ...init, sync: { auto: false, readTimeoutMs: 2000 }, handshakeTimeoutMs: 2000 }))
  ;[victim, attacker] = cluster as [ClusterMember, ClusterMember]
  const p = victim.store.write(new Uint8Array([1]))
  victim.node.broadcast(MemoryVersionStore.keyOf(p), p)
  await waitFor(() => attacker.store.size === 1)
})

afterAll(async () => { await stopCluster(cluster) })

async function inject (protocol: string, bytes: Uint8Array, handshake: boolean): Promise<void> {
  const stream = await attacker.node.libp2p.dialProtocol(multiaddr(victim.node.multiaddrs[0] ?? ''), protocol, { signal: AbortSignal.timeout(5000) })
  try {
    if (handshake) {
      const fs = new FramedStream(stream, { maxFrameBytes: 1 << 20 })
      await dialerHandshake(fs, protocol, victim.node.peerId, { clusterId: 0, localPeerId: attacker.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 5000 })
    }
    stream.send(bytes)
    await stream.close({ signal: AbortSignal.timeout(3000) })
  } catch {
    // a reset from the victim is an expected outcome
  }
}

describe('random frames into each protocol handler', () => {
  for (const protocol of [BROADCAST_PROTOCOL, SWIM_PROTOCOL, SYNC_PROTOCOL]) {
    for (const handshake of [false, true]) {
      it(`${protocol} ${handshake ? 'after' : 'before'} the handshake: no crash, state unchanged, counted`, async () => {
        const digest = victim.store.digest()
        const swimSeen: Uint8Array[] = []
        const off = victim.node.swimTransport.onPacket((b) => { swimSeen.push(b) })
        await fc.assert(fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
          const before = victim.node.stats().framesRejected
          await inject(protocol, bytes, handshake)
          await waitFor(() => victim.node.stats().framesRejected > before, { timeoutMs: 8000, message: `random input was not counted (${Buffer.from(bytes).toString('hex')})` })
        }), { numRuns: 12 })
        off()
        expect(victim.store.digest()).toBe(digest)
        expect(victim.delivered).toHaveLength(0)
        expect(swimSeen).toHaveLength(0)
      }, 120_000)
    }
  }

  it('the victim still works afterwards', async () => {
    const p = attacker.store.write(new Uint8Array([2]))
    attacker.node.broadcast(MemoryVersionStore.keyOf(p), p)
    await waitFor(() => victim.store.size === 2)
    expect(victim.node.stats().framesRejected).toBeGreaterThanOrEqual(72)
  })
})

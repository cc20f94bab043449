import { pack } from 'msgpackr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { BROADCAST_PROTOCOL, SWIM_PROTOCOL, SYNC_PROTOCOL, createGossipNode } from '../src/index.ts'
import { encodeFrame } from '../src/frame-decoder.ts'
import { FramedStream } from '../src/framed-stream.ts'
import { dialerHandshake } from '../src/handshake.ts'
import { MemoryVersionStore, startCluster, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'
import type { SyncPort } from '../src/index.ts'

// Well-formed length prefixes and valid msgpack, but wrong types, wrong tags, hostile numbers,
// oversized payloads, deep nesting: each must be rejected as a whole, counted, and change nothing.
let victim: ClusterMember
let attacker: ClusterMember
let cluster: ClusterMember[]

beforeAll(async () => {
  cluster = await startCluster(2, async (init) => await createGossipNode({
    ...init, sync: { auto: false, readTimeoutMs: 3000 }, handshakeTimeoutMs: 3000, broadcast: { maxPayloadBytes: 1024 }
  }))
  ;[victim, attacker] = cluster as [ClusterMember, ClusterMember]
})

afterAll(async () => { await stopCluster(cluster) })

const bin = (n: number, fill = 1): Uint8Array => new Uint8Array(n).fill(fill)
const frame = (value: unknown): Uint8Array => encodeFrame(pack(value))
const validItem = (): Uint8Array => MemoryVersionStore.encodeItem('evil', 1, bin(3))

function deepArray (depth: number): Uint8Array {
  const b = new Uint8Array(depth + 1).fill(0x91)
  b[depth] = 0x90
  return b
}

const cases: Record<string, Array<[string, Uint8Array[]]>> = {
  [BROADCAST_PROTOCOL]: [
    ['items not an array', [frame([10, 'x'])]],
    ['item of wrong types', [frame([10, [[1, 2, 3]]])]],
    ['NaN / negative inside an item', [frame([10, [[Number.NaN, -1, bin(0)]]])]],
    ['hint not a multiple of 4', [frame([10, [['k', validItem(), bin(3)]]])]],
    ['a valid item followed by a bad one', [frame([10, [['evil/1', validItem(), bin(0)], ['k', 'not binary', bin(0)]]])]],
    ['a payload over maxPayloadBytes', [frame([10, [['evil/1', validItem(), bin(0)], ['evil/2', bin(4096), bin(0)]]])]],
    ['a SWIM frame on the broadcast protocol', [frame([20, [bin(4)]])]],
    ['a second hello after the handshake', [frame([0, 1, 0, bin(16), '/ip4/127.0.0.1/udp/1/quic-v1'])]],
    ['unknown tag', [frame([99, 1])]],
    ['float tag', [frame([10.5, []])]],
    ['deeply nested arrays', [encodeFrame(deepArray(200_000))]],
    ['a 4 GiB length prefix', [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0])]],
    ['a frame cut short by the end of the stream', [frame([10, [['evil/1', validItem(), bin(0)]]]).subarray(0, 12)]]
  ],
  [SWIM_PROTOCOL]: [
    ['packets not an array', [frame([20, 7])]],
    ['a packet that is not binary', [frame([20, [bin(4), 'x']])]],
    ['extra fields', [frame([20, [bin(4)], 1])]],
    ['a broadcast frame on the SWIM protocol', [frame([10, [['evil/1', validItem(), bin(0)]]])]]
  ],
  [SYNC_PROTOCOL]: [
    ['needs that are not msgpack', [frame([31, bin(8, 0xc1)])]],
    ['needs of the wrong shape', [frame([31, pack({ a: 1 })])]],
    ['needs with NaN / negative ranges', [frame([31, pack([['x', [[-5, Number.NaN]]]])])]],
    ['a chunk sent to the server', [frame([32, MemoryVersionStore.encodeItem('evil', 1, bin(1))])]],
    ['needs field not binary', [frame([31, 'x'])]]
  ]
}

async function inject (protocol: string, chunks: Uint8Array[]): Promise<void> {
  const stream = await attacker.node.libp2p.dialProtocol(multiaddr(victim.node.multiaddrs[0] ?? ''), protocol, { signal: AbortSignal.timeout(10_000) })
  try {
    const fs = new FramedStream(stream, { maxFrameBytes: 1 << 20 })
    await dialerHandshake(fs, protocol, victim.node.peerId, { clusterId: 0, localPeerId: attacker.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 10_000 })
    for (const c of chunks) stream.send(c)
    await stream.close({ signal: AbortSignal.timeout(5000) })
  } catch {
    // a reset from the victim is an expected outcome
  }
}

describe('hostile but well-framed input into each protocol handler', () => {
  for (const [protocol, list] of Object.entries(cases)) {
    for (const [name, chunks] of list) {
      it(`${protocol}: ${name} is rejected, counted, and changes nothing`, async () => {
        const digest = victim.store.digest()
        const swimSeen: Uint8Array[] = []
        const off = victim.node.swimTransport.onPacket((b) => { swimSeen.push(b) })
        const before = victim.node.stats().framesRejected
        try {
          await inject(protocol, chunks)
          await waitFor(() => victim.node.stats().framesRejected > before, { timeoutMs: 15_000, message: `not counted: ${name}` })
        } finally {
          off()
        }
        expect(victim.store.digest()).toBe(digest)
        expect(victim.store.size).toBe(0)
        expect(victim.delivered).toEqual([])
        expect(swimSeen).toEqual([])
      }, 30_000)
    }
  }

  it('the victim still works afterwards', async () => {
    const p = attacker.store.write(bin(2))
    attacker.node.broadcast(MemoryVersionStore.keyOf(p), p)
    await waitFor(() => victim.store.size === 1, { timeoutMs: 15_000 })
    expect(victim.delivered).toEqual([MemoryVersionStore.keyOf(p)])
  }, 30_000)
})

describe('a store with its own error classes', () => {
  it('needs the store refuses count as rejected frames, whatever the error is called', async () => {
    const port = new MemoryVersionStore()
    const picky: SyncPort = {
      summary: () => port.summary(),
      needs: (remotes) => port.needs(remotes),
      * serve () {
        const err = new Error('needs are not a version vector')
        err.name = 'CorruptNeedsError'
        throw err
      },
      apply: (chunk) => { port.apply(chunk) }
    }
    const node = await createGossipNode({ sync: { auto: false, readTimeoutMs: 3000 } })
    node.attachSync(picky)
    await node.start()
    try {
      const stream = await attacker.node.libp2p.dialProtocol(multiaddr(node.multiaddrs[0] ?? ''), SYNC_PROTOCOL, { signal: AbortSignal.timeout(10_000) })
      const fs = new FramedStream(stream, { maxFrameBytes: 1 << 20 })
      await dialerHandshake(fs, SYNC_PROTOCOL, node.peerId, { clusterId: 0, localPeerId: attacker.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 10_000 })
      stream.send(frame([31, bin(4)]))
      await waitFor(() => node.stats().framesRejected === 1, { timeoutMs: 15_000, message: 'store error not counted' })
      await stream.close({ signal: AbortSignal.timeout(5000) }).catch(() => {})
      expect(port.size).toBe(0)
    } finally {
      await node.stop()
    }
  }, 30_000)
})


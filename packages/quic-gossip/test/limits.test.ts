import { afterEach, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { BROADCAST_PROTOCOL, SYNC_PROTOCOL, createGossipNode } from '../src/index.ts'
import type { GossipInit } from '../src/index.ts'
import { FramedStream } from '../src/framed-stream.ts'
import { dialerHandshake } from '../src/handshake.ts'
import { MemoryVersionStore, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'
import { gatedStore } from './support/gated-store.ts'

let running: ClusterMember[] = []
afterEach(async () => {
  await stopCluster(running)
  running = []
})

const factory = async (init: GossipInit) => await createGossipNode({ ...init, sync: { auto: false, ...init.sync } })

describe('limits and back-pressure', () => {
  it('slow-loris streams are cut off by time limits and counted', async () => {
    const victim = await startMember(factory, { handshakeTimeoutMs: 1000, frameTimeoutMs: 300 })
    const attacker = await startMember(factory)
    running.push(victim, attacker)
    const target = multiaddr(victim.node.multiaddrs[0] ?? '')
    // 1: never says hello
    const silent = await attacker.node.libp2p.dialProtocol(target, BROADCAST_PROTOCOL)
    await waitFor(() => victim.node.stats().framesRejected === 1, { message: 'silent stream not cut off' })
    const inbound = (): number => victim.node.libp2p.getConnections().flatMap((c) => c.streams)
      .filter((x) => x.protocol === BROADCAST_PROTOCOL && x.direction === 'inbound' && x.status === 'open').length
    await waitFor(() => inbound() === 0, { message: 'the victim kept the silent stream open' })
    expect(silent.protocol).toBe(BROADCAST_PROTOCOL)
    // 2: admitted, then trickles a frame that never completes
    const s = await attacker.node.libp2p.dialProtocol(target, BROADCAST_PROTOCOL)
    const fs = new FramedStream(s, { maxFrameBytes: 1 << 20 })
    await dialerHandshake(fs, BROADCAST_PROTOCOL, victim.node.peerId, { clusterId: 0, localPeerId: attacker.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 2000 })
    s.send(new Uint8Array([0, 0, 0, 100, 1, 2, 3]))
    await waitFor(() => victim.node.stats().framesRejected === 2, { message: 'partial frame not cut off' })
    await waitFor(() => inbound() === 0, { message: 'the victim kept the trickling stream open' })
    expect(victim.store.size).toBe(0)
  })

  it('refuses sync sessions past maxConcurrentServed, and serves again afterwards', async () => {
    const server = await startMember(factory, { sync: { maxConcurrentServed: 1 } })
    const { store: slow, port, release } = gatedStore()
    for (let i = 0; i < 10; i++) slow.write(new Uint8Array([i]))
    server.node.attachSync(port)
    const a = await startMember(factory)
    const b = await startMember(factory)
    running.push(server, a, b)
    for (const m of [a, b]) m.node.setMembers([{ addr: server.node.multiaddrs[0] ?? '', peerId: server.node.peerId }])
    const first = a.node.syncNow()
    await waitFor(() => server.node.stats().syncChunksServed === 0 && a.node.stats().bytesReceived > 0)
    // wait until a's session holds the only slot, then b is turned away
    await waitFor(async () => {
      const r = await b.node.syncNow()
      return r.errors === 1 && server.node.stats().syncBusy > 0
    }, { message: 'second session was not refused' })
    release()
    expect((await first).chunks).toBeGreaterThan(0)
    expect(a.store.size).toBe(10)
    await waitFor(async () => { await b.node.syncNow(); return b.store.size === 10 })
  })

  it('one peer with an unreadable summary costs only its own session', async () => {
    const liar = await startMember(factory)
    liar.node.attachSync({ summary: () => new Uint8Array([0xc1, 0xc1]), needs: () => [], serve: () => [], apply: () => {} })
    const honest = await startMember(factory)
    for (let i = 0; i < 5; i++) honest.store.write(new Uint8Array([i]))
    const client = await startMember(factory)
    running.push(liar, honest, client)
    client.node.setMembers([liar, honest].map((m) => ({ addr: m.node.multiaddrs[0] ?? '', peerId: m.node.peerId })))
    const report = await client.node.syncNow()
    expect(report.errors).toBe(1)
    expect(client.store.size).toBe(5)
    expect(client.node.stats().framesRejected).toBe(1)
  })

  it('a rate-limited sender pushes back, bounds its queue, and still delivers what it kept', async () => {
    const broadcast = { rateBytesPerSec: 50_000, maxQueue: 60, highWaterMark: 40, maxPayloadBytes: 4096 }
    const sender = await startMember(factory, { broadcast })
    const receiver = await startMember(factory)
    running.push(sender, receiver)
    sender.node.setMembers([{ addr: receiver.node.multiaddrs[0] ?? '', peerId: receiver.node.peerId }])
    receiver.node.setMembers([{ addr: sender.node.multiaddrs[0] ?? '', peerId: sender.node.peerId }])
    let refused = 0
    for (let i = 0; i < 100; i++) {
      const p = sender.store.write(new Uint8Array(2048))
      if (!sender.node.broadcast(MemoryVersionStore.keyOf(p), p)) refused++
    }
    expect(refused).toBeGreaterThan(0)
    expect(sender.node.stats().queued).toBeLessThanOrEqual(60)
    const dropped = sender.node.stats().payloadsDropped
    expect(dropped).toBeGreaterThan(0) // past maxQueue, most-sent items went first
    await sender.node.waitForCapacity({ signal: AbortSignal.timeout(20_000) })
    await waitFor(() => receiver.store.size >= 100 - dropped, { timeoutMs: 20_000 })
    // what broadcast dropped, sync brings
    await waitFor(async () => { await receiver.node.syncNow(); return receiver.store.size === 100 })
  })
})

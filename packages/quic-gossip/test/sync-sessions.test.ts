import { afterEach, describe, expect, it } from 'vitest'
import { multiaddr } from '@multiformats/multiaddr'
import { SYNC_PROTOCOL, Tag, createGossipNode } from '../src/index.ts'
import type { GossipInit } from '../src/index.ts'
import { FramedStream } from '../src/framed-stream.ts'
import { dialerHandshake } from '../src/handshake.ts'
import { startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'
import { gatedStore } from './support/gated-store.ts'

let running: ClusterMember[] = []
afterEach(async () => {
  await stopCluster(running)
  running = []
})

const factory = async (init: GossipInit) => await createGossipNode({ ...init, sync: { auto: false, ...init.sync } })

/** Open sync streams on `m` in one direction. */
function syncStreams (m: ClusterMember, direction: 'inbound' | 'outbound'): number {
  return m.node.libp2p.getConnections().flatMap((c) => c.streams)
    .filter((s) => s.protocol === SYNC_PROTOCOL && s.direction === direction && s.status === 'open').length
}

async function pair (serverSync: GossipInit['sync'] = {}): Promise<[ClusterMember, ClusterMember]> {
  const server = await startMember(factory, { sync: serverSync })
  const client = await startMember(factory)
  running.push(server, client)
  client.node.setMembers([{ addr: server.node.multiaddrs[0] ?? '', peerId: server.node.peerId }])
  return [server, client]
}

describe('sync sessions on a kept stream', () => {
  it('later sessions with the same peer reuse the first stream and still deliver', async () => {
    const [server, client] = await pair()
    for (let round = 0; round < 4; round++) {
      server.store.write(new Uint8Array([round]))
      const r = await client.node.syncNow()
      expect(r).toMatchObject({ peers: 1, peersSynced: 1, errors: 0 })
      expect(client.store.size).toBe(round + 1)
    }
    // a quiet session (nothing to fetch) parks the stream too
    expect((await client.node.syncNow()).peersSynced).toBe(1)
    expect(client.node.stats().syncSessionsReused).toBe(4)
    expect(syncStreams(client, 'outbound')).toBe(1)
    expect(syncStreams(server, 'inbound')).toBe(1)
    expect(client.store.digest()).toBe(server.store.digest())
  })

  it('a stream left idle is closed by the server, and the next session opens a fresh one', async () => {
    const [server, client] = await pair({ idleTimeoutMs: 200 })
    server.store.write(new Uint8Array([1]))
    await client.node.syncNow()
    await waitFor(() => syncStreams(server, 'inbound') === 0, { message: 'the server kept an idle sync stream' })
    server.store.write(new Uint8Array([2]))
    const r = await client.node.syncNow()
    expect(r).toMatchObject({ peersSynced: 1, errors: 0 })
    expect(client.store.size).toBe(2)
    expect(client.node.stats().syncSessionsReused).toBe(0)
  })

  it('stopping the client closes its kept streams', async () => {
    const [server, client] = await pair()
    await client.node.syncNow()
    await waitFor(() => syncStreams(server, 'inbound') === 1)
    await client.node.stop()
    running = [server]
    await waitFor(() => syncStreams(server, 'inbound') === 0, { message: 'the kept stream outlived its client' })
  })

  it('a frame other than Again on a stream at rest is rejected and the stream closed', async () => {
    const server = await startMember(factory)
    const attacker = await startMember(factory)
    running.push(server, attacker)
    const s = await attacker.node.libp2p.dialProtocol(multiaddr(server.node.multiaddrs[0] ?? ''), SYNC_PROTOCOL)
    const fs = new FramedStream(s, { maxFrameBytes: 1 << 20 })
    await dialerHandshake(fs, SYNC_PROTOCOL, server.node.peerId, { clusterId: 0, localPeerId: attacker.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 2000 })
    expect((await fs.next({ timeoutMs: 2000 }))?.tag).toBe(Tag.Summary)
    fs.send({ tag: Tag.Done })
    // a second session may begin with Again only
    fs.send({ tag: Tag.Again })
    expect((await fs.next({ timeoutMs: 2000 }))?.tag).toBe(Tag.Summary)
    fs.send({ tag: Tag.Done })
    fs.send({ tag: Tag.Needs, needs: new Uint8Array([1]) })
    await waitFor(() => server.node.stats().framesRejected === 1, { message: 'the stray frame was not rejected' })
    await waitFor(() => syncStreams(server, 'inbound') === 0, { message: 'the server kept the stream' })
  })

  it('a busy server refuses Again like a new session, and serves it once free', async () => {
    const server = await startMember(factory, { sync: { maxConcurrentServed: 1 } })
    const { store: slow, port, release } = gatedStore()
    server.node.attachSync(port)
    const a = await startMember(factory)
    const b = await startMember(factory)
    running.push(server, a, b)
    for (const m of [a, b]) m.node.setMembers([{ addr: server.node.multiaddrs[0] ?? '', peerId: server.node.peerId }])
    // a parks a stream after a quiet session; then b's session holds the only slot
    expect((await a.node.syncNow()).peersSynced).toBe(1)
    slow.write(new Uint8Array([1]))
    const held = b.node.syncNow()
    await waitFor(() => b.node.stats().bytesReceived > 0 && server.node.stats().syncChunksServed === 0)
    await waitFor(async () => (await a.node.syncNow()).errors === 1 && server.node.stats().syncBusy > 0, { message: 'Again was not refused while busy' })
    release()
    expect((await held).chunks).toBe(1)
    // the refused stream is gone; the next session opens a fresh one and is served
    const r = await a.node.syncNow()
    expect(r).toMatchObject({ peersSynced: 1, errors: 0 })
    expect(a.store.size).toBe(1)
  })

  it('the server keeps one idle stream per peer: a newer one closes the older', async () => {
    const server = await startMember(factory)
    const peer = await startMember(factory)
    running.push(server, peer)
    const session = async (): Promise<FramedStream> => {
      const s = await peer.node.libp2p.dialProtocol(multiaddr(server.node.multiaddrs[0] ?? ''), SYNC_PROTOCOL)
      const fs = new FramedStream(s, { maxFrameBytes: 1 << 20 })
      await dialerHandshake(fs, SYNC_PROTOCOL, server.node.peerId, { clusterId: 0, localPeerId: peer.node.peerId, localAddr: '/ip4/127.0.0.1/udp/1/quic-v1', timeoutMs: 2000 })
      expect((await fs.next({ timeoutMs: 2000 }))?.tag).toBe(Tag.Summary)
      fs.send({ tag: Tag.Done })
      return fs
    }
    const first = await session()
    await waitFor(() => syncStreams(server, 'inbound') === 1)
    await session()
    await waitFor(() => syncStreams(server, 'inbound') === 1, { message: 'the older idle stream was kept' })
    await waitFor(() => first.ended, { message: 'the older stream was not closed' })
    expect(server.node.stats().framesRejected).toBe(0)
  })
})

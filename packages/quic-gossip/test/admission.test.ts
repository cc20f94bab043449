import { afterEach, describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import type { GossipInit } from '../src/index.ts'
import { admissionMac } from '../src/handshake.ts'
import { MemoryVersionStore, startMember, stopCluster, waitFor } from '../src/testing/index.ts'
import type { ClusterMember } from '../src/testing/index.ts'

let running: ClusterMember[] = []
afterEach(async () => {
  await stopCluster(running)
  running = []
})

const factory = async (init: GossipInit) => await createGossipNode(init)

describe('admission', () => {
  it('binds the proof to role, protocol, cluster, both peer ids and both nonces', () => {
    const key = new Uint8Array(32).fill(7)
    const n1 = new Uint8Array(16).fill(1)
    const n2 = new Uint8Array(16).fill(2)
    const base = Buffer.from(admissionMac(key, 'dialer', '/p', 1, 'A', 'B', n1, n2)).toString('hex')
    const variants = [
      admissionMac(key, 'listener', '/p', 1, 'A', 'B', n1, n2),
      admissionMac(key, 'dialer', '/q', 1, 'A', 'B', n1, n2),
      admissionMac(key, 'dialer', '/p', 2, 'A', 'B', n1, n2),
      admissionMac(key, 'dialer', '/p', 1, 'B', 'A', n1, n2),
      admissionMac(key, 'dialer', '/p', 1, 'A', 'B', n2, n1),
      admissionMac(new Uint8Array(32), 'dialer', '/p', 1, 'A', 'B', n1, n2)
    ].map((m) => Buffer.from(m).toString('hex'))
    expect(new Set([base, ...variants]).size).toBe(7)
  })

  it('an allow-list keeps unknown peers out both ways; listed peers get through', async () => {
    const outsider = await startMember(factory, { sync: { auto: false } })
    const friend = await startMember(factory, { sync: { auto: false } })
    running.push(outsider, friend)
    const guarded = await startMember(factory, { sync: { auto: false }, allowList: [friend.node.peerId] })
    running.push(guarded)
    const info = (m: ClusterMember): { addr: string, peerId: string } => ({ addr: m.node.multiaddrs[0] ?? '', peerId: m.node.peerId })
    // friend and outsider do not know each other: only guarded links them
    outsider.node.setMembers([info(guarded)])
    friend.node.setMembers([info(guarded)])
    guarded.node.setMembers([info(outsider), info(friend)])
    for (let i = 0; i < 5; i++) {
      const p = outsider.store.write(new Uint8Array([i]))
      outsider.node.broadcast(MemoryVersionStore.keyOf(p), p)
    }
    const g = guarded.store.write(new Uint8Array([9]))
    guarded.node.broadcast(MemoryVersionStore.keyOf(g), g)
    await waitFor(() => friend.store.size === 1)
    await waitFor(() => outsider.node.stats().payloadsDropped >= 5, { message: 'sends to the guarded node were not refused' })
    const report = await outsider.node.syncNow()
    expect(report.chunks).toBe(0)
    expect(outsider.store.has(MemoryVersionStore.keyOf(g))).toBe(false)
    expect(guarded.store.size).toBe(1)
    expect((await friend.node.syncNow()).errors).toBe(0)
  })

  it('a rejected peer never crashes the node and is counted on both sides', async () => {
    const a = await startMember(factory, { sync: { auto: false }, clusterId: 1, secret: 'x' })
    const b = await startMember(factory, { sync: { auto: false }, clusterId: 1, secret: 'y' })
    running.push(a, b)
    a.node.setMembers([{ addr: b.node.multiaddrs[0] ?? '' }])
    b.node.setMembers([{ addr: a.node.multiaddrs[0] ?? '' }])
    for (let i = 0; i < 3; i++) {
      await a.node.syncNow()
      await b.node.syncNow()
    }
    await waitFor(() => a.node.stats().admissionRejected >= 2 && b.node.stats().admissionRejected >= 2)
    expect(a.store.size + b.store.size).toBe(0)
    const p = a.store.write(new Uint8Array([1]))
    a.node.broadcast(MemoryVersionStore.keyOf(p), p)
    await waitFor(() => a.node.stats().admissionRejected >= 3)
    expect(b.store.size).toBe(0)
  })
})

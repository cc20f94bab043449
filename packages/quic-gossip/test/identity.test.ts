import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createGossipNode, loadOrCreateIdentity, toMultiaddr } from '../src/index.ts'

const dirs: string[] = []
afterEach(async () => { await Promise.all(dirs.splice(0).map(async (d) => { await rm(d, { recursive: true, force: true }) })) })

describe('identity', () => {
  it('creates the key file 0600 and keeps the peer id across restarts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gossip-id-'))
    dirs.push(dir)
    const path = join(dir, 'sub', 'node.key')
    const a = await createGossipNode({ identityPath: path })
    expect((await stat(path)).mode & 0o777).toBe(0o600)
    const b = await createGossipNode({ identityPath: path })
    expect(b.peerId).toBe(a.peerId)
    await b.start()
    expect(b.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/udp/\\d+/quic-v1/p2p/${b.peerId}$`))
    await b.stop()
  })

  it('refuses a corrupt key file with IdentityError', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gossip-id-'))
    dirs.push(dir)
    const path = join(dir, 'bad.key')
    await writeFile(path, 'not a key')
    await expect(loadOrCreateIdentity(path)).rejects.toMatchObject({ name: 'IdentityError' })
  })
})

describe('toMultiaddr', () => {
  it('maps host:port to QUIC and keeps multiaddrs', () => {
    expect(toMultiaddr('127.0.0.1:4001').toString()).toBe('/ip4/127.0.0.1/udp/4001/quic-v1')
    expect(toMultiaddr('[::1]:4001').toString()).toBe('/ip6/::1/udp/4001/quic-v1')
    expect(toMultiaddr('/ip4/10.0.0.1/udp/9/quic-v1').toString()).toBe('/ip4/10.0.0.1/udp/9/quic-v1')
    for (const bad of ['nope', '1.2.3.4:99999', '/not/a/multiaddr', '']) {
      expect(() => toMultiaddr(bad)).toThrow(expect.objectContaining({ name: 'InvalidAddressError' }))
    }
  })
})

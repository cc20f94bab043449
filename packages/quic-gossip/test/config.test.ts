import { describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import type { GossipInit } from '../src/index.ts'

// Each is refused before anything is created (no libp2p node, no socket), with the option named.
const bad: Array<[string, GossipInit]> = [
  ['clusterId', { clusterId: -1 }],
  ['clusterId', { clusterId: 1.5 }],
  ['clusterId', { clusterId: 2 ** 32 }],
  ['secret', { secret: '' }],
  ['maxFrameBytes', { maxFrameBytes: 2 ** 33 }],
  ['dialTimeoutMs', { dialTimeoutMs: Number.NaN }],
  ['frameTimeoutMs', { frameTimeoutMs: 0 }],
  ['broadcast.lambda', { broadcast: { lambda: Number.NaN } }],
  ['broadcast.fanout', { broadcast: { fanout: 0 } }],
  ['broadcast.maxQueue', { broadcast: { maxQueue: -5 } }],
  ['broadcast.rateBytesPerSec', { broadcast: { rateBytesPerSec: Infinity } }],
  ['broadcast.resendIntervalMs', { broadcast: { resendIntervalMs: -1 } }],
  ['broadcast.directMax', { broadcast: { directMax: 17 } }],
  ['broadcast.directMax', { broadcast: { directMax: -1 } }],
  ['sync.minIntervalMs', { sync: { minIntervalMs: Number.NaN } }],
  ['sync.maxIntervalMs', { sync: { minIntervalMs: 5000, maxIntervalMs: 1000 } }],
  ['sync.maxIntervalMs', { sync: { maxIntervalMs: 2 ** 32 } }],
  ['sync.maxChunkBytes', { sync: { maxChunkBytes: 0 } }],
  ['sync.auto', { sync: { auto: 'yes' as unknown as boolean } }],
  ['sync.idleTimeoutMs', { sync: { idleTimeoutMs: 0 } }]
]

describe('createGossipNode options', () => {
  for (const [key, init] of bad) {
    it(`refuses a bad ${key} with InvalidConfigError naming it`, async () => {
      const err = await createGossipNode(init).then(() => undefined, (e: unknown) => e as Error)
      expect(err?.name).toBe('InvalidConfigError')
      expect(err?.message).toContain(key)
    })
  }
})

import { describe, expect, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'

describe('libp2p configuration', () => {
  // libp2p's connection monitor pings every connection every 10 s through a protocol we do not
  // register: each node's burst of stream set-ups, failed negotiations and resets stalled the event
  // loop and made the broadcast latency tail (p99 ≈ 250 ms at N=20). QUIC keep-alive and SWIM cover
  // what it was for. libp2p offers no public way to ask, so this reads its component registry.
  it('runs no ping connection monitor', async () => {
    const node = await createGossipNode({})
    await node.start()
    try {
      const components = (node.libp2p as unknown as { components: Record<string, unknown> }).components
      expect(components).toBeTypeOf('object')
      expect(components.connectionManager).toBeDefined()
      // the registry throws MissingServiceError for a component that was never configured
      let monitor: unknown
      try {
        monitor = components.connectionMonitor
      } catch (err) {
        expect((err as Error).name).toBe('MissingServiceError')
      }
      expect(monitor).toBeUndefined()
    } finally {
      await node.stop()
    }
  })
})

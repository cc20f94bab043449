import { describe, it } from 'vitest'
import { createGossipNode } from '../src/index.ts'
import { describeGossipCompliance } from '../src/testing/index.ts'

describeGossipCompliance('QUIC', async (init) => await createGossipNode(init), { describe, it })

describeGossipCompliance('TCP + noise + yamux', async (init) => await createGossipNode({
  ...init,
  tcp: true,
  listen: ['/ip4/127.0.0.1/tcp/0']
}), { describe, it })

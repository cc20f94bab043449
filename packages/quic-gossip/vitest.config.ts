import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@patina/source'] },
  ssr: { resolve: { conditions: ['@patina/source'] } },
  test: {
    name: 'quic-gossip',
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

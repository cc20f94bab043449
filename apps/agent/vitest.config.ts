import { defineProject } from 'vitest/config'

export default defineProject({
  resolve: { conditions: ['@patina/source'] },
  ssr: { resolve: { conditions: ['@patina/source'] } },
  test: {
    name: 'agent',
    include: ['test/**/*.test.ts'],
    restoreMocks: true,
    testTimeout: 60_000,
    hookTimeout: 60_000
  }
})

import { defineConfig } from 'vitest/config'

// One vitest project per workspace package; each package keeps its own vitest.config.ts.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'tools/*/vitest.config.ts']
  }
})

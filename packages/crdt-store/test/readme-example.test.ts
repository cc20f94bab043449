import { readFileSync } from 'node:fs'
import { describe, expect, it, vi } from 'vitest'
import * as api from '../src/index.ts'

describe('README example', () => {
  it('runs as written and prints what it claims', async () => {
    const text = readFileSync(new URL('../README.md', import.meta.url), 'utf8')
    const code = /```ts\n([\s\S]*?)```/.exec(text)![1]!
    const body = code.replace(/^import .*$/m, '').replace(/\/\/ .*$/gm, '')
    const log = vi.fn()
    const run = new Function('api', 'console', `const { ${Object.keys(api).join(', ')} } = api;\n${body}`) as (a: unknown, c: unknown) => void
    run(api, { log })
    expect(log.mock.calls).toEqual([[1], [[[1, 'write docs', 1]]]])
  })
})

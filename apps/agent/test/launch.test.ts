import { describe, it, expect, afterEach } from 'vitest'
import { mkdtempSync, mkdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentLaunch, buildIsCurrent } from '../bin/launch.mjs'

const PACKAGES = ['packages/crdt-store', 'packages/swim-membership', 'packages/quic-gossip', 'packages/api-server', 'apps/agent']
let root: string | undefined
afterEach(() => { if (root !== undefined) rmSync(root, { recursive: true, force: true }); root = undefined })

/** A fake checkout: every package with a source file at `srcTime` and (optionally) a build at `builtTime`. */
function checkout (srcTime: number, builtTime: number | null): string {
  const dir = root = mkdtempSync(join(tmpdir(), 'patina-launch-'))
  for (const pkg of PACKAGES) {
    mkdirSync(join(dir, pkg, 'src/deep'), { recursive: true })
    const files = [join(dir, pkg, 'package.json'), join(dir, pkg, 'src/index.ts'), join(dir, pkg, 'src/deep/x.ts')]
    for (const f of files) { writeFileSync(f, ''); utimesSync(f, srcTime, srcTime) }
    if (builtTime === null) continue
    mkdirSync(join(dir, pkg, 'dist'))
    for (const f of ['dist/index.js', 'dist/tsconfig.tsbuildinfo']) { writeFileSync(join(dir, pkg, f), ''); utimesSync(join(dir, pkg, f), builtTime, builtTime) }
  }
  return dir
}

describe('agent launcher', () => {
  it('uses a build only when every package has one newer than all its sources', () => {
    expect(buildIsCurrent(checkout(1000, null))).toBe(false)
    expect(buildIsCurrent(checkout(1000, 2000))).toBe(true)
    const dir = checkout(1000, 2000)
    // an edit deep in one package's sources after the build makes the whole build stale
    utimesSync(join(dir, 'packages/quic-gossip/src/deep/x.ts'), 3000, 3000)
    expect(buildIsCurrent(dir)).toBe(false)
    const manifest = checkout(1000, 2000)
    utimesSync(join(manifest, 'apps/agent/package.json'), 3000, 3000)
    expect(buildIsCurrent(manifest)).toBe(false)
  })

  it('runs the sources with the source condition when asked to', () => {
    const l = agentLaunch({ PATINA_FROM_SOURCE: '1' })
    expect(l.fromSource).toBe(true)
    expect(l.entry).toMatch(/apps\/agent\/src\/bin\.ts$/)
    expect(l.nodeArgs).toContain('--conditions=@patina/source')
  })
})

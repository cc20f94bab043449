import { describe, it, expect, afterEach } from 'vitest'
import { lutimesSync, mkdtempSync, mkdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { agentLaunch, buildIsCurrent } from '../bin/launch.mjs'

const PACKAGES = ['packages/crdt-store', 'packages/swim-membership', 'packages/quic-gossip', 'packages/api-server', 'apps/agent']
let root: string | undefined
afterEach(() => { if (root !== undefined) rmSync(root, { recursive: true, force: true }); root = undefined })

/** A fake checkout: every package with sources and settings at `srcTime` and (optionally) a build at `builtTime`. */
function checkout (srcTime: number, builtTime: number | null): string {
  const dir = root = mkdtempSync(join(tmpdir(), 'patina-launch-'))
  const touch = (f: string, time: number, text = ''): void => { writeFileSync(f, text); utimesSync(f, time, time) }
  touch(join(dir, 'tsconfig.base.json'), srcTime, '{}')
  for (const pkg of PACKAGES) {
    mkdirSync(join(dir, pkg, 'src/deep'), { recursive: true })
    const refs = pkg === 'apps/agent' ? PACKAGES.filter(p => p !== pkg).map(p => ({ path: `../../${p}` })) : []
    touch(join(dir, pkg, 'tsconfig.json'), srcTime, JSON.stringify({ references: refs }))
    for (const f of ['package.json', 'src/index.ts', 'src/deep/x.ts']) touch(join(dir, pkg, f), srcTime)
    if (builtTime === null) continue
    mkdirSync(join(dir, pkg, 'dist'))
    for (const f of ['dist/index.js', 'dist/tsconfig.tsbuildinfo']) touch(join(dir, pkg, f), builtTime)
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
    // so do compiler settings newer than the build
    const settings = checkout(1000, 2000)
    utimesSync(join(settings, 'tsconfig.base.json'), 3000, 3000)
    expect(buildIsCurrent(settings)).toBe(false)
  })

  it('treats a source tree it cannot read as stale instead of failing', () => {
    const dir = checkout(1000, 2000)
    // a dangling link, as an editor's lock file is, does not break the check
    symlinkSync(join(dir, 'nowhere'), join(dir, 'packages/crdt-store/src/.#lock.ts'))
    lutimesSync(join(dir, 'packages/crdt-store/src/.#lock.ts'), 1000, 1000)
    expect(buildIsCurrent(dir)).toBe(true)
    rmSync(join(dir, 'apps/agent/tsconfig.json'))
    expect(buildIsCurrent(dir)).toBe(false)
  })

  it('runs the sources with the source condition when asked to', () => {
    const l = agentLaunch({ PATINA_FROM_SOURCE: '1' })
    expect(l.fromSource).toBe(true)
    expect(l.entry).toMatch(/apps\/agent\/src\/bin\.ts$/)
    expect(l.nodeArgs).toContain('--conditions=@patina/source')
  })
})

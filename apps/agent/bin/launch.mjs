// How to start the agent: from its compiled build (`npm run build`, or `tsc -b` as `npm test` runs
// it) when that build is current, else from its TypeScript sources through Node's type stripping.
// The build starts faster and needs ~25 MiB less memory per process (no type-stripping compiler
// kept loaded); the sources need no build step. A build older than any source file it came from is
// never used, so an edit is never run stale.
import { spawn } from 'node:child_process'
import { existsSync, lstatSync, readFileSync, readdirSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../../../', import.meta.url))

/** The agent and every workspace package it loads: its tsconfig's project references. */
function packagesOf (root) {
  const refs = JSON.parse(readFileSync(join(root, 'apps/agent/tsconfig.json'), 'utf8')).references ?? []
  return ['apps/agent', ...refs.map((r) => relative(root, join(root, 'apps/agent', r.path)))]
}

/**
 * Node flags every agent process gets. The young generation is capped at 8 MiB semi-spaces: an agent
 * under write load allocates ~20 MiB/s of short-lived objects, and with 2 MiB semi-spaces it spent
 * twice the time in scavenges (ten agents at 1000 writes/s asked on two cores: 837 against 889
 * writes/s over four alternated runs, worst peak RSS 141–146 against 155–157 MiB; 16 MiB bought
 * nothing more and cost 173 MiB). Letting the old generation grow by at most 30% between full
 * collections keeps the peak steady: with V8's own heuristic a saturated process (whose
 * collections finish late) sometimes doubled its heap with garbage (worst peaks up to 208 MiB).
 */
export const AGENT_NODE_FLAGS = ['--max-semi-space-size=8', '--heap-growing-percent=30']

/** Environment every agent process gets: two malloc arenas, as the QUIC and libuv threads otherwise each grow their own, adding tens of MiB of RSS. */
export const AGENT_ENV = { MALLOC_ARENA_MAX: '2' }

/** Node flags that run the TypeScript sources. */
export const SOURCE_NODE_FLAGS = ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning']

function newestMtime (dir) {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    // lstat: a dangling link (an editor's lock file) has a time too
    newest = Math.max(newest, e.isDirectory() ? newestMtime(p) : lstatSync(p).mtimeMs)
  }
  return newest
}

/**
 * True when every package's build exists and is newer than all of its sources, its package.json and
 * the compiler settings. Anything unreadable counts as "not current" (the sources then run).
 */
export function buildIsCurrent (root = ROOT) {
  try {
    const settings = statSync(join(root, 'tsconfig.base.json')).mtimeMs
    for (const pkg of packagesOf(root)) {
      const info = join(root, pkg, 'dist/tsconfig.tsbuildinfo')
      if (!existsSync(info) || !existsSync(join(root, pkg, 'dist/index.js'))) return false
      const built = statSync(info).mtimeMs
      const inputs = Math.max(newestMtime(join(root, pkg, 'src')), settings,
        statSync(join(root, pkg, 'package.json')).mtimeMs, statSync(join(root, pkg, 'tsconfig.json')).mtimeMs)
      if (inputs > built) return false
    }
    return true
  } catch {
    return false
  }
}

/**
 * The entry file and node flags to run the agent with. `PATINA_FROM_SOURCE=1` forces the sources.
 * @returns {{ entry: string, nodeArgs: string[], fromSource: boolean }}
 */
export function agentLaunch (env = process.env) {
  if (env.PATINA_FROM_SOURCE !== '1' && buildIsCurrent()) {
    return { entry: join(ROOT, 'apps/agent/dist/bin.js'), nodeArgs: [], fromSource: false }
  }
  return { entry: join(ROOT, 'apps/agent/src/bin.ts'), nodeArgs: SOURCE_NODE_FLAGS, fromSource: true }
}

/**
 * Runs the agent CLI with `args` on `node` in the foreground: signals are passed on, and this process
 * exits with the agent's code.
 */
export function runAgent (node, args) {
  const { entry, nodeArgs } = agentLaunch()
  const child = spawn(node, [...AGENT_NODE_FLAGS, ...nodeArgs, entry, ...args], { stdio: 'inherit', env: { ...AGENT_ENV, ...process.env } })
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
  child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))
}

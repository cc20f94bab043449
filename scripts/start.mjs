// `npm start`: run one node on embedded defaults, on the pinned Node. Runs the agent's build when it
// is current (`npm run build`), else its TypeScript sources (type stripping): no build step needed.
import { existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(`${root}apps/agent/src/bin.ts`)) {
  console.log('patina: the agent is not built yet (apps/agent/src/bin.ts is missing); nothing to start.')
  process.exit(0)
}
const { AGENT_NODE_FLAGS, agentLaunch } = await import('../apps/agent/bin/launch.mjs')
const { entry, nodeArgs } = agentLaunch()
const args = process.argv.slice(2)
const child = spawn(process.execPath, [...AGENT_NODE_FLAGS, ...nodeArgs, entry, ...(args.length > 0 ? args : ['agent'])], { stdio: 'inherit', env: { MALLOC_ARENA_MAX: '2', ...process.env } })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))

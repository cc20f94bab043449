// `npm start`: run one node on embedded defaults. Runs the agent from its TypeScript sources on the
// pinned Node (type stripping), so no build step is needed.
import { existsSync } from 'node:fs'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const entry = `${root}apps/agent/src/bin.ts`
if (!existsSync(entry)) {
  console.log('patina: the agent is not built yet (apps/agent/src/bin.ts is missing); nothing to start.')
  process.exit(0)
}
const args = process.argv.slice(2)
const child = spawn(process.execPath, ['--max-semi-space-size=2', '--conditions=@patina/source', '--disable-warning=ExperimentalWarning', entry, ...(args.length > 0 ? args : ['agent'])], { stdio: 'inherit', env: { MALLOC_ARENA_MAX: '2', ...process.env } })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))

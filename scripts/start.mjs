// `npm start`: run one node on embedded defaults, on the pinned Node. Runs the agent's build when it
// is current (`npm run build`), else its TypeScript sources (type stripping): no build step needed.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
if (!existsSync(`${root}apps/agent/src/bin.ts`)) {
  console.log('patina: the agent is not built yet (apps/agent/src/bin.ts is missing); nothing to start.')
  process.exit(0)
}
const { runAgent } = await import('../apps/agent/bin/launch.mjs')
const args = process.argv.slice(2)
runAgent(process.execPath, args.length > 0 ? args : ['agent'])

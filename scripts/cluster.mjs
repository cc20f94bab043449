// `npm run cluster -- --nodes 5`: starts a local cluster of patina agents for people to try. Runs the
// harness from its TypeScript sources on the pinned Node (type stripping).
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', `${root}tools/cluster/src/cli.ts`, ...process.argv.slice(2)], { stdio: 'inherit' })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))

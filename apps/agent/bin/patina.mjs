#!/usr/bin/env node
// Launcher for installed use: runs the TypeScript CLI on Node's type stripping with the source
// condition, on the pinned Node when it is installed next to us.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

const entry = fileURLToPath(new URL('../src/bin.ts', import.meta.url))
const pinned = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url))
const node = existsSync(pinned) ? pinned : process.execPath
// A small young generation keeps a node's peak RSS under load below 200 MiB at little CPU cost.
// Two malloc arenas: the QUIC and libuv threads otherwise each grow their own, adding tens of MiB of RSS.
const env = { MALLOC_ARENA_MAX: '2', ...process.env }
const child = spawn(node, ['--max-semi-space-size=2', '--conditions=@patina/source', '--disable-warning=ExperimentalWarning', entry, ...process.argv.slice(2)], { stdio: 'inherit', env })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))

#!/usr/bin/env node
// Launcher for installed use: runs the agent CLI (its build when current, else its TypeScript
// sources; see launch.mjs) on the pinned Node when it is installed next to us.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AGENT_NODE_FLAGS, agentLaunch } from './launch.mjs'

const pinned = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url))
const node = existsSync(pinned) ? pinned : process.execPath
const { entry, nodeArgs } = agentLaunch()
// Two malloc arenas: the QUIC and libuv threads otherwise each grow their own, adding tens of MiB of RSS.
const env = { MALLOC_ARENA_MAX: '2', ...process.env }
const child = spawn(node, [...AGENT_NODE_FLAGS, ...nodeArgs, entry, ...process.argv.slice(2)], { stdio: 'inherit', env })
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig))
child.on('exit', (code, signal) => process.exit(code ?? (signal != null ? 1 : 0)))

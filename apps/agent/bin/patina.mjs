#!/usr/bin/env node
// Launcher for installed use: runs the agent CLI (its build when current, else its TypeScript
// sources; see launch.mjs) on the pinned Node when it is installed next to us.
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runAgent } from './launch.mjs'

const pinned = fileURLToPath(new URL('../../../node_modules/.bin/node', import.meta.url))
runAgent(existsSync(pinned) ? pinned : process.execPath, process.argv.slice(2))

#!/usr/bin/env node
// The `patina` command line entry.
import { runCli } from './cli.ts'

const code = await runCli(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env })
// Commands are done when runCli resolves; stray handles (keep-alive sockets) must not keep us up.
// stdout/stderr are synchronous for files and pipes on Linux, so nothing printed is lost.
process.exit(code)

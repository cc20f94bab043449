import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'

const example = fileURLToPath(new URL('../examples/three-members.ts', import.meta.url))
const children: ChildProcess[] = []

afterEach(() => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL')
})

async function freePort (): Promise<number> {
  const s = createSocket('udp4')
  await new Promise<void>(resolve => s.bind(0, '127.0.0.1', resolve))
  const port = s.address().port
  await new Promise<void>(resolve => s.close(() => { resolve() }))
  return port
}

function run (args: string[]): { child: ChildProcess, lines: string[] } {
  const child = spawn(process.execPath, ['--conditions=@patina/source', '--disable-warning=ExperimentalWarning', example, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
  children.push(child)
  const lines: string[] = []
  let buf = ''
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString()
    const parts = buf.split('\n')
    buf = parts.pop() ?? ''
    lines.push(...parts)
  })
  return { child, lines }
}

async function waitFor (what: string, fn: () => boolean, timeout = 20_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise(resolve => setTimeout(resolve, 25))
  }
}

describe('README example', () => {
  it('three processes on 127.0.0.1 find each other; Ctrl-C is seen as left', async () => {
    const ports = [await freePort(), await freePort(), await freePort()]
    const seed = `127.0.0.1:${ports[0]}`
    const procs = [run([String(ports[0])]), run([String(ports[1]), seed]), run([String(ports[2]), seed])]
    await waitFor('everyone to see two members up', () => procs.every(p => p.lines.filter(l => l.startsWith('up ')).length >= 2))
    procs[2]!.child.kill('SIGINT')
    await waitFor('the others to print left', () => procs.slice(0, 2).every(p => p.lines.includes(`left node-${ports[2]}`)))
    await waitFor('the leaver to exit', () => procs[2]!.child.exitCode !== null)
    expect(procs[2]!.child.exitCode).toBe(0)
    expect(procs[0]!.lines.some(l => l.startsWith('down '))).toBe(false)
  })
})

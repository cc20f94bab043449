import type { Command } from 'commander'
import { configFrom, type CliIo, type GlobalOptions } from '../cli.ts'
import { adminRequest } from '../admin-client.ts'
import type { AdminCommand } from '../admin-server.ts'
import { formatObjects, formatTable } from './output.ts'

async function ask (cmd: Command, io: CliIo, command: AdminCommand): Promise<unknown[]> {
  const config = configFrom(cmd.optsWithGlobals<GlobalOptions>(), io)
  return await adminRequest(config.admin.path, command)
}

/** Registers `cluster members|rejoin`, `sync status`, `reload`: node-local commands over the admin socket. */
export function registerAdminCommands (program: Command, io: CliIo): void {
  const cluster = program.command('cluster').description('cluster membership (admin socket)')
  cluster.command('members')
    .description('list the members this node knows, with their SWIM state')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [members] = await ask(cmd, io, { Cluster: 'Members' }) as [Array<Record<string, unknown>>]
      if (opts.json === true) io.stdout.write(JSON.stringify(members) + '\n')
      else io.stdout.write(formatObjects(['id', 'state', 'addr', 'api', 'incarnation', 'self'], members))
    })
  cluster.command('rejoin')
    .description('renew this node\'s SWIM identity and rejoin the cluster')
    .action(async (_opts: unknown, cmd: Command) => {
      await ask(cmd, io, { Cluster: 'Rejoin' })
      io.stdout.write('rejoining\n')
    })

  const sync = program.command('sync').description('replication state (admin socket)')
  sync.command('status')
    .description('per actor: head version, gaps and partially received versions')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [status] = await ask(cmd, io, { Sync: 'Generate' })
      if (opts.json === true) { io.stdout.write(JSON.stringify(status) + '\n'); return }
      const actors = normaliseStatus(status)
      io.stdout.write(formatTable(['actor', 'head', 'gaps', 'partials'], actors.map(a => [a.actor, a.head, a.gaps, a.partials])))
    })

  sync.command('generate')
    .description('print the sync state as JSON (Corrosion\'s name for `sync status --json`)')
    .action(async (_opts: unknown, cmd: Command) => {
      const [status] = await ask(cmd, io, { Sync: 'Generate' })
      io.stdout.write(JSON.stringify(status) + '\n')
    })

  program.command('reload')
    .description('re-read the schema files and apply them to the running node')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const [change] = await ask(cmd, io, 'Reload')
      io.stdout.write(opts.json === true ? JSON.stringify(change ?? null) + '\n' : `schema reloaded${change != null ? ': ' + JSON.stringify(change) : ''}\n`)
    })
}

/** Turns the store's sync status into table rows, whatever its exact nesting. */
function normaliseStatus (status: unknown): Array<{ actor: string; head: unknown; gaps: string; partials: string }> {
  const list: unknown[] = Array.isArray(status)
    ? status
    : status !== null && typeof status === 'object' && Array.isArray((status as { actors?: unknown }).actors)
      ? (status as { actors: unknown[] }).actors
      : []
  return list.map(x => {
    const a = x as Record<string, unknown>
    const gaps = Array.isArray(a.gaps) ? (a.gaps as Array<[number, number]>).map(g => `${g[0]}..${g[1]}`).join(' ') : String(a.gaps ?? '')
    const partials = Array.isArray(a.partials) ? String(a.partials.length) : a.partials !== null && typeof a.partials === 'object' ? String(Object.keys(a.partials).length) : String(a.partials ?? 0)
    return { actor: String(a.actor ?? a.id ?? ''), head: a.head ?? a.maxVersion ?? null, gaps: gaps === '' ? '-' : gaps, partials }
  })
}

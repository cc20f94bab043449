import { Command, CommanderError } from 'commander'
import { loadConfig, type AgentConfig } from './config.ts'
import { runAgentCommand } from './commands/agent-command.ts'
import { registerClientCommands } from './commands/client-commands.ts'
import { registerAdminCommands } from './commands/admin-commands.ts'
import { registerFileCommands } from './commands/file-commands.ts'
import { registerTemplateCommand } from './commands/template-command.ts'

/** Where the CLI writes. */
export interface CliIo {
  stdout: NodeJS.WritableStream
  stderr: NodeJS.WritableStream
  env: Record<string, string | undefined>
}

/** Global options every command accepts. */
export interface GlobalOptions {
  config?: string
  apiAddr?: string
  dbPath?: string
  adminPath?: string
}

/** Loads the config with the global CLI flags applied on top. */
export function configFrom (opts: GlobalOptions, io: CliIo): AgentConfig {
  return loadConfig({
    ...(opts.config !== undefined ? { path: opts.config } : {}),
    env: io.env,
    overrides: {
      ...(opts.apiAddr !== undefined ? { 'api.addr': opts.apiAddr } : {}),
      ...(opts.dbPath !== undefined ? { 'db.path': opts.dbPath } : {}),
      ...(opts.adminPath !== undefined ? { 'admin.path': opts.adminPath } : {})
    }
  })
}

/** Builds the `patina` command tree. */
export function buildProgram (io: CliIo): Command {
  const program = new Command('patina')
    .description('Patina: a fast, eventually consistent, distributed SQLite')
    .option('-c, --config <file>', 'TOML config file (default: embedded defaults)')
    .option('--api-addr <host:port>', 'HTTP API address (overrides [api] addr)')
    .option('--db-path <file>', 'database file (overrides [db] path)')
    .option('--admin-path <socket>', 'admin socket (overrides [admin] path)')
    .showHelpAfterError()
    .configureOutput({
      writeOut: s => { io.stdout.write(s) },
      writeErr: s => { io.stderr.write(s) }
    })
    .exitOverride()

  program.command('agent')
    .description('run a Patina node')
    .option('--json', 'print where the node listens as one JSON line')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await runAgentCommand(configFrom(cmd.optsWithGlobals<GlobalOptions>(), io), io, { json: opts.json === true })
    })

  registerClientCommands(program, io)
  registerAdminCommands(program, io)
  registerFileCommands(program, io)
  registerTemplateCommand(program, io)
  return program
}

/** Exit code for configuration errors. */
export const EXIT_CONFIG = 2

/** Runs the CLI with `argv` (without node and script); resolves with the exit code. */
export async function runCli (argv: readonly string[], io: CliIo): Promise<number> {
  const program = buildProgram(io)
  try {
    await program.parseAsync([...argv], { from: 'user' })
    return 0
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end through here with exit code 0.
      return err.exitCode === 0 ? 0 : EXIT_CONFIG
    }
    const e = err as Error
    if (e.name === 'ConfigError') {
      io.stderr.write(`patina: invalid configuration: ${e.message}\n`)
      return EXIT_CONFIG
    }
    io.stderr.write(`patina: ${e.message}\n`)
    return 1
  }
}

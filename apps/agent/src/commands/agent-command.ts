import type { AgentConfig } from '../config.ts'
import type { CliIo } from '../cli.ts'
import { createLogger } from '../logger.ts'

/**
 * `patina agent`: starts a node, prints where it listens, and runs until SIGINT/SIGTERM (graceful
 * leave) or a fatal storage error (exit code 1).
 */
export async function runAgentCommand (config: AgentConfig, io: CliIo, options: { json?: boolean } = {}): Promise<void> {
  const logger = createLogger({ format: config.log.format, colors: config.log.colors && (io.stderr as { isTTY?: boolean }).isTTY === true, level: config.log.level, destination: io.stderr })
  if (config.ignoredKeys.length > 0) {
    logger.warn({ keys: config.ignoredKeys }, 'configuration keys accepted for Corrosion compatibility but ignored (Patina does not act on them)')
  }
  // Loaded on demand so client commands start without loading SQLite and libp2p.
  const { createAgent } = await import('../agent.ts')
  const agent = await createAgent({ config, logger, ...swimTuning(io.env) })
  const listening = await agent.start()
  const lines = [
    `patina node ${agent.actorId} (peer ${agent.peerId})`,
    `  database    ${config.db.path}`,
    ...listening.api.map(a => `  api         http://${a}`),
    ...(listening.pg !== undefined ? [`  pg          ${listening.pg}`] : []),
    ...listening.gossip.map(a => `  gossip      ${a}`),
    `  admin       ${listening.admin}`,
    ...(listening.prometheus !== undefined ? [`  prometheus  http://${listening.prometheus}/metrics`] : [])
  ]
  if (options.json === true) io.stdout.write(JSON.stringify({ actor: agent.actorId, peerId: agent.peerId, db: config.db.path, ...listening }) + '\n')
  else io.stdout.write(lines.join('\n') + '\n')
  const onSignal = (sig: string): void => {
    logger.info({ signal: sig }, 'leaving the cluster and stopping')
    void agent.stop()
  }
  // SIGHUP re-reads the schema files, like `patina reload`.
  const onHup = (): void => {
    agent.reload().catch((err: unknown) => { logger.error({ err: (err as Error).message }, 'schema reload failed') })
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.on('SIGHUP', onHup)
  const { fatal } = await agent.stopped
  process.off('SIGINT', onSignal)
  process.off('SIGTERM', onSignal)
  process.off('SIGHUP', onHup)
  if (fatal !== undefined) throw fatal
}

/** Hidden tuning knobs for test clusters, from the environment. */
function swimTuning (env: Record<string, string | undefined>): { swimPreset?: 'lan' | 'wan' | 'local'; syncIntervalMs?: { min: number; max: number } } {
  const preset = env.PATINA_SWIM_PRESET
  const sync = env.PATINA_SYNC_INTERVAL_MS
  const out: { swimPreset?: 'lan' | 'wan' | 'local'; syncIntervalMs?: { min: number; max: number } } = {}
  if (preset === 'lan' || preset === 'wan' || preset === 'local') out.swimPreset = preset
  if (sync !== undefined) {
    const [a, b] = sync.split(',').map(Number)
    if (a !== undefined && Number.isFinite(a) && a > 0) out.syncIntervalMs = { min: a, max: b !== undefined && Number.isFinite(b) && b >= a ? b : a }
  }
  return out
}

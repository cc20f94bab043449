/**
 * `@patina/agent`: the `patina` node — configuration, CLI, the composition root that wires the store,
 * membership, gossip and API together, the admin socket, logs and metrics.
 *
 * @packageDocumentation
 */
export { loadConfig, parseHostPort, toQuicMultiaddr } from './config.ts'
export type { AgentConfig, LoadConfigInit } from './config.ts'
export { createAgent } from './agent.ts'
export type { Agent, AgentInit, AgentMember, Listening, PgServerFactory } from './agent.ts'
export { createAdminServer, socketAnswers } from './admin-server.ts'
export type { AdminServer, AdminServerInit, AdminCommand, AdminHandler } from './admin-server.ts'
export { adminRequest } from './admin-client.ts'
export { encodeFrame, FrameDecoder, MAX_ADMIN_FRAME } from './admin-frame.ts'
export { createMetrics, serveMetrics, LagWindow } from './metrics.ts'
export type { AgentMetrics } from './metrics.ts'
export { createLogger } from './logger.ts'
export type { LoggerInit } from './logger.ts'
export { renderTemplate } from './template.ts'
export type { RenderResult, TemplateQuery, TemplateSql, TemplateRows } from './template.ts'
export { contentHash } from './content-hash.ts'
export type { ContentHash } from './content-hash.ts'
export { runCli, buildProgram } from './cli.ts'
export type { CliIo, GlobalOptions } from './cli.ts'
export { isFatalSqliteError } from './fatal.ts'
export * from './errors.ts'

import type { AdminCommand, AdminHandler } from './admin-server.ts'
import type { Agent } from './agent.ts'
import { AdminProtocolError } from './errors.ts'

function strings (v: unknown, what: string): string[] {
  if (!Array.isArray(v) || v.some(x => typeof x !== 'string')) throw new AdminProtocolError(`${what} must be a list of strings`)
  return v as string[]
}

/**
 * Maps admin commands to the agent. Commands follow Corrosion's externally tagged JSON: `"Ping"`,
 * `"Reload"`, `{"Cluster":"Members"}`, `{"Cluster":"Rejoin"}`, `{"Sync":"Generate"}`; plus Patina's
 * `"Health"`, `"ContentHash"`, `"Listening"`, `{"Backup":{"path"}}`, `{"Sync":"Now"}` and the test
 * hooks `{"Test":{"Partition":{"peers":[...]}}}` and `{"Test":"Heal"}`.
 */
export function adminHandler (agent: Agent): AdminHandler {
  return async (command: AdminCommand, { signal }) => {
    if (typeof command === 'string') {
      switch (command) {
        case 'Ping': return [{ pong: true, actor: agent.actorId }]
        case 'Reload': return [await agent.reload({ signal })]
        case 'Health': {
          const mem = process.memoryUsage()
          const mib = (n: number): number => Math.round(n / 104857.6) / 10
          return [{ gaps: agent.gapCount(), members: agent.members().filter(m => m.state === 'alive').length, memory: { rss: mib(mem.rss), heapUsed: mib(mem.heapUsed), heapTotal: mib(mem.heapTotal), external: mib(mem.external), arrayBuffers: mib(mem.arrayBuffers) } }]
        }
        case 'ContentHash': return [agent.contentHash()]
        case 'Listening': return [{ actor: agent.actorId, peerId: agent.peerId, ...agent.listening }]
        default: throw new AdminProtocolError(`unknown admin command ${JSON.stringify(command)}`)
      }
    }
    const keys = Object.keys(command)
    if (keys.length !== 1) throw new AdminProtocolError('admin command object must have exactly one key')
    const tag = keys[0] as string
    const body = command[tag]
    switch (tag) {
      case 'Cluster':
        if (body === 'Members') return [agent.members()]
        if (body === 'Rejoin') { await agent.rejoin({ signal }); return [] }
        break
      case 'Sync':
        if (body === 'Generate') return [agent.syncStatus()]
        if (body === 'Now') return [await agent.syncNow({ signal })]
        break
      case 'Backup': {
        const path = (body as { path?: unknown } | null)?.path
        const keepIdentity = (body as { keep_identity?: unknown } | null)?.keep_identity === true
        if (typeof path !== 'string' || path === '') throw new AdminProtocolError('Backup needs {"path": "<file>"}')
        await agent.backup(path, { signal, keepIdentity })
        return [{ path }]
      }
      case 'Test':
        if (body === 'Heal') { agent.heal(); return [] }
        if (body !== null && typeof body === 'object' && 'Partition' in body) {
          const peers = strings((body as { Partition: { peers?: unknown } }).Partition?.peers, 'Partition.peers')
          agent.partition(peers)
          return []
        }
        break
      default:
        break
    }
    throw new AdminProtocolError(`unknown admin command ${JSON.stringify(command)}`)
  }
}

import type { PartitionFilter } from './partition.ts'
import { decodeMemberMeta } from './member-meta.ts'

/** A SWIM member as the membership package reports it. */
export interface SwimMember {
  id: string
  addr: string
  meta: Uint8Array
  incarnation: number
  state: 'alive' | 'suspect' | 'down' | 'left'
}

/** A cluster member as the CLI and the harness see it. */
export interface AgentMember {
  id: string
  addr: string
  state: 'alive' | 'suspect' | 'down' | 'left'
  incarnation: number
  peerId?: string
  api?: string
  self: boolean
}

/** This node, as it describes itself in member lists. */
export interface SelfView { actor: string; addr: string; peerId?: string; api?: string }

/** The member list for `cluster members`: SWIM's view decoded, with this node first. */
export function memberList (members: readonly SwimMember[], self: SelfView): AgentMember[] {
  const out: AgentMember[] = [{ id: self.actor, addr: self.addr, state: 'alive', incarnation: 0, ...(self.peerId !== undefined ? { peerId: self.peerId } : {}), ...(self.api !== undefined ? { api: self.api } : {}), self: true }]
  for (const m of members) {
    if (m.id === self.actor) continue
    const meta = decodeMemberMeta(m.meta)
    out.push({
      id: meta?.actor ?? m.id,
      addr: m.addr,
      state: m.state,
      incarnation: m.incarnation,
      ...(meta !== undefined ? { peerId: meta.peerId } : {}),
      ...(meta?.api !== undefined ? { api: meta.api } : {}),
      self: false
    })
  }
  return out
}

/**
 * The peers gossip may use: live (alive or suspect) members of the same cluster, minus partitioned
 * ones. Suspects stay: a suspect that refutes goes back to alive without a membership event, and
 * dropping it here would keep it out of broadcast and sync until some later event (for ever, in a
 * quiet cluster), and with it the versions only it holds. A member found dead is removed then.
 * Also teaches the partition filter which peer id and address each actor uses.
 */
export function gossipPeers (members: readonly SwimMember[], selfActor: string, clusterId: number, partition: PartitionFilter): Array<{ addr: string; peerId?: string }> {
  const alive: Array<{ addr: string; peerId?: string }> = []
  for (const m of members) {
    if (m.id === selfActor) continue
    const meta = decodeMemberMeta(m.meta)
    if (meta !== undefined) partition.learn(meta.actor, meta.peerId, m.addr)
    if (m.state !== 'alive' && m.state !== 'suspect') continue
    if (meta !== undefined && meta.clusterId !== clusterId) continue
    if (partition.isBlocked(meta?.actor) || partition.isBlocked(meta?.peerId) || partition.isAddrBlocked(m.addr)) continue
    alive.push({ addr: m.addr, ...(meta !== undefined ? { peerId: meta.peerId } : {}) })
  }
  return alive
}

import type { GossipInit, GossipNode } from '../gossip-node.ts'
import { MemoryVersionStore } from './memory-version-store.ts'

/** Builds a node from an init (the transport configuration under test adds its own options). */
export type GossipNodeFactory = (init: GossipInit) => Promise<GossipNode>

/** One node of a test cluster with its store and delivery log. */
export interface ClusterMember {
  node: GossipNode
  store: MemoryVersionStore
  /** Keys handed to the application, in order (duplicates would show up twice). */
  delivered: string[]
}

/** Options of {@link startCluster}. */
export interface StartClusterOptions {
  /** Init shared by every node (merged under the factory's own options). */
  init?: GossipInit
  /** Connect every node to every other through `setMembers`. Default true. */
  mesh?: boolean
}

/**
 * Start `n` nodes, each with a {@link MemoryVersionStore} attached as its sync port and its
 * payloads applied to that store, and (by default) tell each about all the others.
 */
export async function startCluster (n: number, factory: GossipNodeFactory, options: StartClusterOptions = {}): Promise<ClusterMember[]> {
  const members: ClusterMember[] = []
  for (let i = 0; i < n; i++) members.push(await startMember(factory, options.init ?? {}))
  if (options.mesh !== false) connectAll(members)
  return members
}

/** Start one node with its store. */
export async function startMember (factory: GossipNodeFactory, init: GossipInit = {}): Promise<ClusterMember> {
  const node = await factory(init)
  const store = new MemoryVersionStore()
  const delivered: string[] = []
  node.onPayload((payload, meta) => {
    delivered.push(meta.key)
    return store.applyBroadcast(payload)
  })
  node.attachSync(store)
  await node.start()
  return { node, store, delivered }
}

/** Tell every member about every other one. */
export function connectAll (members: readonly ClusterMember[]): void {
  for (const m of members) {
    m.node.setMembers(members.filter((o) => o !== m).map((o) => ({ addr: o.node.multiaddrs[0] ?? '', peerId: o.node.peerId })))
  }
}

/** Stop every member, ignoring errors. */
export async function stopCluster (members: readonly ClusterMember[]): Promise<void> {
  await Promise.all(members.map(async (m) => { await m.node.stop().catch(() => {}) }))
}

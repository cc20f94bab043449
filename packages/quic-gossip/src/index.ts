/**
 * @packageDocumentation
 *
 * Gossip of opaque payloads between libp2p peers over QUIC: epidemic broadcast, anti-entropy sync
 * through a store-implemented port, a SWIM packet transport, and peer admission (cluster id,
 * cluster secret, allow-list).
 *
 * @example
 * ```ts
 * import { createGossipNode } from '@patina/quic-gossip'
 *
 * const node = await createGossipNode({ clusterId: 1 })
 * await node.start()
 * node.onPayload((payload, { key, from }) => { console.log(key, from, payload.byteLength) })
 * node.setMembers([{ addr: '/ip4/127.0.0.1/udp/4001/quic-v1' }])
 * node.broadcast('k1', new Uint8Array([1, 2, 3]))
 * await node.stop()
 * ```
 */
export { createGossipNode } from './gossip-node.ts'
export type { GossipInit, GossipNode } from './gossip-node.ts'
export { BROADCAST_PROTOCOL } from './broadcaster.ts'
export type { BatchPayloadHandler, BroadcastInit, PayloadHandler, PayloadMeta, ReceivedPayload } from './broadcaster.ts'
export { SYNC_PROTOCOL } from './sync-service.ts'
export type { SyncInit } from './sync-service.ts'
export type { SyncPort, SyncRoundReport, RemoteSummary, PeerNeeds } from './sync-port.ts'
export { SWIM_PROTOCOL } from './swim-transport.ts'
export type { SwimTransport, PacketHandler } from './swim-transport.ts'
export type { MemberInfo } from './peer-table.ts'
export type { GossipMetrics, GossipStats } from './stats.ts'
export type { GossipLogger } from './node-context.ts'
export { loadOrCreateIdentity } from './identity.ts'
export { toMultiaddr } from './address.ts'
export { BroadcastScheduler, transmitBudget } from './broadcast-scheduler.ts'
export type { BroadcastSchedulerInit, PeerView, ScheduledSend } from './broadcast-scheduler.ts'
export { FrameDecoder, encodeFrame } from './frame-decoder.ts'
export { encodeMessage, decodeMessage, Tag, RejectReason, WIRE_VERSION } from './codec.ts'
export type { Message } from './codec.ts'
export * from './errors.ts'

/**
 * SWIM + Lifeguard membership and failure detection: a sans-IO core, a driver with a UDP
 * transport, presets and a binary codec.
 *
 * @example
 * ```ts
 * import { createSwim } from '@patina/swim-membership'
 * const swim = createSwim({ bind: '127.0.0.1:7946', identity: { id: 'a', addr: '127.0.0.1:7946' }, config: 'local' })
 * swim.addEventListener('member:up', (e) => { console.log(e.detail.id) })
 * await swim.start()
 * ```
 *
 * @packageDocumentation
 */
export * from './errors.ts'
export * from './types.ts'
export * from './config.ts'
export * from './codec.ts'
export * from './runtime.ts'
export * from './suspicion.ts'
export { BroadcastQueue } from './broadcast-queue.ts'
export { supersedes } from './member-table.ts'
export { SwimCore } from './swim-core.ts'
export { validateIdentity } from './member-info.ts'
export type { SwimCoreInit } from './swim-core.ts'
export { createSwim } from './swim-node.ts'
export type { SwimInit, SwimNode, SwimEvents, SwimLogger, SwimIdentityInit } from './swim-node.ts'
export { createUdpTransport, parseHostPort } from './udp-transport.ts'
export type { PacketTransport, UdpTransport } from './udp-transport.ts'
export { typedEventTarget } from './typed-event-target.ts'
export type { TypedEventTarget, TypedListener, ListenerOptions } from './typed-event-target.ts'

/**
 * Test kit of `@patina/quic-gossip`: an in-memory store implementing the sync port, cluster
 * helpers and the compliance suite every transport configuration must pass.
 *
 * @packageDocumentation
 */
export { MemoryVersionStore } from './memory-version-store.ts'
export type { MemoryVersionStoreInit } from './memory-version-store.ts'
export { RangeSet } from './range-set.ts'
export type { Range } from './range-set.ts'
export { waitFor } from './wait-for.ts'
export type { WaitForOptions } from './wait-for.ts'
export { startCluster, startMember, connectAll, stopCluster } from './cluster.ts'
export type { ClusterMember, GossipNodeFactory, StartClusterOptions } from './cluster.ts'
export { complianceChecks, describeGossipCompliance } from './compliance.ts'
export type { ComplianceCheck, SuiteRunner } from './compliance.ts'

/**
 * `@patina/cluster-harness`: starts N real `patina agent` processes on 127.0.0.1 with temp dirs; kills
 * (-9), restarts, partitions (through each node's admin test hook) and heals them; writes through any
 * node and compares content hashes.
 *
 * @packageDocumentation
 */
export { createCluster, tail } from './cluster.ts'
export type { Cluster, ClusterInit, ClusterNode, NodeContent } from './cluster.ts'
export { admin, HarnessAdminError } from './admin.ts'
export { freePort, freePorts } from './free-port.ts'
export { waitFor } from './wait-for.ts'
export { parsePrometheus, sumSamples } from './prometheus.ts'

/**
 * @packageDocumentation
 * cr-sqlite semantics on better-sqlite3: CRR tables, change capture, per-column CRDT merge,
 * per-actor version bookkeeping, chunked changesets and a msgpack codec. See README.md.
 */
export { openStore } from './store.ts'
export type { CrdtStore, StoreInit, Tx } from './store.ts'
export { encodeChangeset, decodeChangeset, encodeSummary, decodeSummary, encodeNeeds, decodeNeeds, CODEC_VERSION } from './codec.ts'
export { packPk, unpackPk } from './pack-pk.ts'
export { MAX_SEQ, MAX_VERSION } from './crr-sql.ts'
export { compareValues } from './compare-values.ts'
export { hlc, msToNtp64, ntp64ToMs } from './hlc.ts'
export type { Hlc, HlcInit } from './hlc.ts'
export * from './errors.ts'
export type * from './types.ts'

import type { BroadcastInit } from './broadcaster.ts'
import { MAX_HOLDER_HINT } from './broadcast-scheduler.ts'
import { InvalidConfigError } from './errors.ts'
import type { GossipInit } from './gossip-node.ts'
import type { SyncInit } from './sync-service.ts'

// setTimeout fires at once for delays past 2^31-1 ms, so no timing option may exceed it
const MAX_DELAY_MS = 2 ** 31 - 1

function check (ok: boolean, key: string, want: string, value: unknown): void {
  if (!ok) throw new InvalidConfigError(`${key} must be ${want}, got ${String(value)}`)
}

function count (v: number, key: string, min = 1): void {
  check(Number.isSafeInteger(v) && v >= min, key, `an integer >= ${min}`, v)
}

function duration (v: number, key: string, min = 0): void {
  check(typeof v === 'number' && v >= min && v <= MAX_DELAY_MS, key, `a number of ms in ${min}..${MAX_DELAY_MS}`, v)
}

function positive (v: number, key: string): void {
  check(typeof v === 'number' && Number.isFinite(v) && v > 0, key, 'a positive number', v)
}

/** Broadcast options with defaults filled in; throws {@link InvalidConfigError} naming a bad option. */
export function broadcastDefaults (b: BroadcastInit = {}): Required<BroadcastInit> {
  const maxQueue = b.maxQueue ?? 20_000
  const c: Required<BroadcastInit> = {
    lambda: b.lambda ?? 4,
    fanout: b.fanout ?? 3,
    resendIntervalMs: b.resendIntervalMs ?? 10,
    maxQueue,
    highWaterMark: b.highWaterMark ?? Math.floor(maxQueue * 0.8),
    maxBatchBytes: b.maxBatchBytes ?? 64 * 1024,
    rateBytesPerSec: b.rateBytesPerSec ?? 64 * 1024 * 1024,
    seenCacheSize: b.seenCacheSize ?? 200_000,
    maxPayloadBytes: b.maxPayloadBytes ?? 1024 * 1024,
    maxLinkBufferBytes: b.maxLinkBufferBytes ?? 8 * 1024 * 1024,
    stopAfterDuplicates: b.stopAfterDuplicates ?? 0,
    directMax: b.directMax ?? MAX_HOLDER_HINT,
    flushDelayMs: b.flushDelayMs ?? 0
  }
  positive(c.lambda, 'broadcast.lambda')
  count(c.fanout, 'broadcast.fanout')
  duration(c.resendIntervalMs, 'broadcast.resendIntervalMs')
  count(c.maxQueue, 'broadcast.maxQueue')
  count(c.highWaterMark, 'broadcast.highWaterMark', 0)
  positive(c.maxBatchBytes, 'broadcast.maxBatchBytes')
  positive(c.rateBytesPerSec, 'broadcast.rateBytesPerSec')
  count(c.seenCacheSize, 'broadcast.seenCacheSize')
  count(c.maxPayloadBytes, 'broadcast.maxPayloadBytes')
  positive(c.maxLinkBufferBytes, 'broadcast.maxLinkBufferBytes')
  count(c.stopAfterDuplicates, 'broadcast.stopAfterDuplicates', 0)
  count(c.directMax, 'broadcast.directMax', 0)
  // a direct round's hint must name every peer, or receivers would relay to the ones it left out
  check(c.directMax <= MAX_HOLDER_HINT, 'broadcast.directMax', `at most ${MAX_HOLDER_HINT}`, c.directMax)
  duration(c.flushDelayMs, 'broadcast.flushDelayMs')
  return c
}

/** Sync options with defaults filled in; throws {@link InvalidConfigError} naming a bad option. */
export function syncDefaults (s: SyncInit = {}): Required<SyncInit> {
  const c: Required<SyncInit> = {
    minIntervalMs: s.minIntervalMs ?? 1000,
    maxIntervalMs: s.maxIntervalMs ?? 15_000,
    auto: s.auto ?? true,
    minPeers: s.minPeers ?? 3,
    maxPeers: s.maxPeers ?? 10,
    maxConcurrentServed: s.maxConcurrentServed ?? 3,
    roundTimeoutMs: s.roundTimeoutMs ?? 300_000,
    readTimeoutMs: s.readTimeoutMs ?? 5000,
    idleTimeoutMs: s.idleTimeoutMs ?? 60_000,
    maxChunkBytes: s.maxChunkBytes ?? 4 * 1024 * 1024
  }
  duration(c.minIntervalMs, 'sync.minIntervalMs')
  duration(c.maxIntervalMs, 'sync.maxIntervalMs', c.minIntervalMs)
  check(typeof c.auto === 'boolean', 'sync.auto', 'a boolean', c.auto)
  count(c.minPeers, 'sync.minPeers')
  count(c.maxPeers, 'sync.maxPeers')
  count(c.maxConcurrentServed, 'sync.maxConcurrentServed', 0)
  duration(c.roundTimeoutMs, 'sync.roundTimeoutMs', 1)
  duration(c.readTimeoutMs, 'sync.readTimeoutMs', 1)
  duration(c.idleTimeoutMs, 'sync.idleTimeoutMs', 1)
  count(c.maxChunkBytes, 'sync.maxChunkBytes')
  return c
}

/** Checks the node-level options of {@link GossipInit}; throws {@link InvalidConfigError} naming the first bad one. */
export function checkNodeInit (init: GossipInit): void {
  if (init.clusterId != null) check(Number.isInteger(init.clusterId) && init.clusterId >= 0 && init.clusterId <= 0xffff_ffff, 'clusterId', 'an integer in 0..2^32-1', init.clusterId)
  if (init.secret != null) check(typeof init.secret === 'string' && init.secret !== '', 'secret', 'a non-empty string', init.secret === '' ? '""' : typeof init.secret)
  if (init.allowList != null) check(Array.isArray(init.allowList) && init.allowList.every((p) => typeof p === 'string'), 'allowList', 'an array of peer id strings', init.allowList)
  if (init.listen != null) check(Array.isArray(init.listen) && init.listen.every((a) => typeof a === 'string'), 'listen', 'an array of multiaddr strings', init.listen)
  if (init.handshakeTimeoutMs != null) duration(init.handshakeTimeoutMs, 'handshakeTimeoutMs', 1)
  if (init.dialTimeoutMs != null) duration(init.dialTimeoutMs, 'dialTimeoutMs', 1)
  if (init.frameTimeoutMs != null) duration(init.frameTimeoutMs, 'frameTimeoutMs', 1)
  // the length prefix is 4 bytes
  if (init.maxFrameBytes != null) check(Number.isSafeInteger(init.maxFrameBytes) && init.maxFrameBytes >= 64 && init.maxFrameBytes <= 0xffff_ffff, 'maxFrameBytes', 'an integer in 64..2^32-1', init.maxFrameBytes)
  if (init.maxSwimPacketBytes != null) count(init.maxSwimPacketBytes, 'maxSwimPacketBytes')
}

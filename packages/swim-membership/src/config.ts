import { InvalidConfigError } from './errors.ts'

/**
 * Every timing of the protocol, in milliseconds. Presets follow hashicorp/memberlist's
 * DefaultLANConfig / DefaultWANConfig / DefaultLocalConfig so figures compare like for like.
 */
export interface SwimConfig {
  /** Carried in every packet; packets from another cluster are rejected. 0..2^32-1. */
  clusterId: number
  /** One probe per interval (scaled by LHM+1 with Lifeguard). */
  probeInterval: number
  /** Wait this long for a direct ack before asking others to probe (scaled by LHM+1 with Lifeguard). */
  probeTimeout: number
  /** k: members asked to ping-req an unresponsive target. */
  indirectChecks: number
  /** Minimum suspicion = suspicionMult · max(1, log10 N) · probeInterval. */
  suspicionMult: number
  /** Lifeguard: maximum suspicion = this · minimum; it shrinks with independent confirmations. */
  suspicionMaxTimeoutMult: number
  /** An update is piggybacked retransmitMult · ceil(log10(N+1)) times. */
  retransmitMult: number
  /** Period of extra gossip rounds; they send only when something is queued. */
  gossipInterval: number
  /** Members per gossip round. */
  gossipNodes: number
  /** Down members keep receiving gossip this long (so a wrongly downed member hears of it). */
  gossipToTheDeadTime: number
  /** Digest exchange with a random live member; full state when digests differ. Scaled past 32 members. */
  announceInterval: number
  /** Announce to a random down member so partitions heal. */
  announceDownInterval: number
  /** Down and left members are forgotten after this. */
  forgetDownAfter: number
  /** Bytes per datagram; feeds and queued updates are split to fit. */
  maxPacketSize: number
  /** Bytes of user metadata per member. */
  maxMetaSize: number
  /** Queued membership updates plus user broadcasts; the most-sent item is dropped first. */
  maxBroadcastQueue: number
  /** Member table cap; the oldest down/left members are evicted first, then new members are refused. */
  maxMembers: number
  /** Lifeguard LHM saturates at this − 1. */
  awarenessMaxMultiplier: number
  /** Lifeguard: local health multiplier, nack, dogpile suspicion, buddy system. */
  lifeguard: boolean
  /** Cap on `leave()` waiting for the leave to be disseminated. */
  leaveTimeout: number
  /** Relays send a nack when the target has not acked after this fraction of probeTimeout (Lifeguard: 0.8). */
  nackRatio: number
}

/** Preset names. */
export const CONFIG_PRESETS = ['lan', 'wan', 'local'] as const

/** A preset name. */
export type ConfigPreset = typeof CONFIG_PRESETS[number]

/** A preset name, or a partial config laid over `lan`. */
export type SwimConfigInput = ConfigPreset | Partial<SwimConfig>

const common = {
  clusterId: 0,
  maxPacketSize: 1200,
  maxMetaSize: 512,
  maxBroadcastQueue: 4096,
  maxMembers: 100_000,
  awarenessMaxMultiplier: 8,
  lifeguard: true,
  nackRatio: 0.8
}

/** memberlist DefaultLANConfig timings: a datacenter network. */
export function lanConfig (): SwimConfig {
  return {
    ...common,
    probeInterval: 1000,
    probeTimeout: 500,
    indirectChecks: 3,
    suspicionMult: 4,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipInterval: 200,
    gossipNodes: 3,
    gossipToTheDeadTime: 30_000,
    announceInterval: 30_000,
    announceDownInterval: 30_000,
    forgetDownAfter: 3_600_000,
    leaveTimeout: 3000
  }
}

/** memberlist DefaultWANConfig timings: across regions. */
export function wanConfig (): SwimConfig {
  return {
    ...common,
    probeInterval: 5000,
    probeTimeout: 3000,
    indirectChecks: 3,
    suspicionMult: 6,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 4,
    gossipInterval: 500,
    gossipNodes: 4,
    gossipToTheDeadTime: 60_000,
    announceInterval: 60_000,
    announceDownInterval: 60_000,
    forgetDownAfter: 3_600_000,
    leaveTimeout: 10_000
  }
}

/** memberlist DefaultLocalConfig timings: loopback / one host. */
export function localConfig (): SwimConfig {
  return {
    ...common,
    probeInterval: 1000,
    probeTimeout: 200,
    indirectChecks: 1,
    suspicionMult: 3,
    suspicionMaxTimeoutMult: 6,
    retransmitMult: 2,
    gossipInterval: 100,
    gossipNodes: 3,
    gossipToTheDeadTime: 15_000,
    announceInterval: 15_000,
    announceDownInterval: 15_000,
    forgetDownAfter: 600_000,
    leaveTimeout: 1000
  }
}

const presets: Record<ConfigPreset, () => SwimConfig> = { lan: lanConfig, wan: wanConfig, local: localConfig }

/** Resolves a preset name or partial config (over `lan`) and validates every value. */
export function resolveConfig (input: SwimConfigInput = 'lan'): SwimConfig {
  let config: SwimConfig
  if (typeof input === 'string') {
    const preset = presets[input]
    if (preset == null) throw new InvalidConfigError(`Unknown config preset "${String(input)}" (expected lan, wan or local)`)
    config = preset()
  } else {
    config = { ...lanConfig() }
    for (const [key, value] of Object.entries(input)) {
      // a misspelt key would silently keep the default
      if (!Object.hasOwn(config, key)) throw new InvalidConfigError(`Unknown config key "${key}"`)
      if (value !== undefined) (config as unknown as Record<string, unknown>)[key] = value
    }
  }
  validateConfig(config)
  return config
}

const positive: Array<keyof SwimConfig> = ['probeInterval', 'probeTimeout', 'gossipInterval', 'announceInterval', 'announceDownInterval', 'forgetDownAfter', 'leaveTimeout', 'suspicionMult', 'suspicionMaxTimeoutMult', 'retransmitMult', 'awarenessMaxMultiplier', 'maxBroadcastQueue', 'maxMembers']
const nonNegative: Array<keyof SwimConfig> = ['indirectChecks', 'gossipNodes', 'gossipToTheDeadTime', 'maxMetaSize']

/** Throws InvalidConfigError naming the first bad key. */
export function validateConfig (config: SwimConfig): void {
  for (const key of positive) {
    const v = config[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new InvalidConfigError(`config.${key} must be a positive number, got ${String(v)}`)
  }
  for (const key of nonNegative) {
    const v = config[key]
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidConfigError(`config.${key} must be a non-negative number, got ${String(v)}`)
  }
  if (!Number.isInteger(config.clusterId) || config.clusterId < 0 || config.clusterId > 0xffff_ffff) throw new InvalidConfigError(`config.clusterId must be an integer in 0..2^32-1, got ${String(config.clusterId)}`)
  if (config.probeTimeout > config.probeInterval) throw new InvalidConfigError('config.probeTimeout must not exceed config.probeInterval')
  if (!Number.isInteger(config.maxPacketSize) || config.maxPacketSize < 256 || config.maxPacketSize > 65_000) throw new InvalidConfigError(`config.maxPacketSize must be an integer in 256..65000, got ${String(config.maxPacketSize)}`)
  if (config.maxMetaSize > config.maxPacketSize / 2) throw new InvalidConfigError('config.maxMetaSize must be at most half of config.maxPacketSize')
  if (typeof config.lifeguard !== 'boolean') throw new InvalidConfigError('config.lifeguard must be a boolean')
  if (!(config.nackRatio > 0 && config.nackRatio <= 1)) throw new InvalidConfigError('config.nackRatio must be in (0, 1]')
}

/** memberlist `retransmitLimit`: transmissions per queued update for a cluster of n members. */
export function retransmitLimit (config: SwimConfig, n: number): number {
  return config.retransmitMult * Math.max(1, Math.ceil(Math.log10(n + 1)))
}

/** memberlist `suspicionTimeout`: the minimum suspicion time for a cluster of n members. */
export function suspicionMinTimeout (config: SwimConfig, n: number): number {
  return config.suspicionMult * Math.max(1, Math.log10(Math.max(1, n))) * config.probeInterval
}

/** memberlist `pushPullScale`: full-state intervals grow with log2 of the cluster past 32 members. */
export function announceScale (interval: number, n: number): number {
  if (n <= 32) return interval
  return interval * (Math.ceil(Math.log2(n) - Math.log2(32)) + 1)
}

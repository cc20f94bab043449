/** Options of a hybrid logical clock. */
export interface HlcInit {
  /** Physical time in milliseconds since the UNIX epoch. */
  now: () => number
  /**
   * Remote timestamps further than this ahead of the physical clock are ignored (default one hour):
   * ordinary clock skew still moves the clock, a badly wrong clock does not drag every node along.
   */
  maxDeltaMs?: number
}

/** A hybrid logical clock producing NTP64 timestamps (upper 32 bits seconds, lower 32 fraction). */
export interface Hlc {
  /** A new timestamp, strictly greater than every timestamp seen or produced before. */
  now(): bigint
  /** Moves the clock past a remote timestamp; returns false (and ignores it) when it is too far ahead. */
  update(remote: bigint): boolean
  /** The last timestamp produced or seen. */
  last(): bigint
}

/** Converts milliseconds since the UNIX epoch to NTP64. */
export function msToNtp64 (ms: number): bigint {
  const secs = Math.floor(ms / 1000)
  const frac = Math.floor(((ms - secs * 1000) / 1000) * 0x100000000)
  return (BigInt(secs) << 32n) | BigInt(frac)
}

/** Converts NTP64 to milliseconds since the UNIX epoch. */
export function ntp64ToMs (ts: bigint): number {
  return Number(ts >> 32n) * 1000 + (Number(ts & 0xffffffffn) / 0x100000000) * 1000
}

/** Creates a hybrid logical clock over the given physical clock (a pure core: no timers). */
export function hlc (init: HlcInit): Hlc {
  let last = 0n
  const maxDelta = init.maxDeltaMs ?? 3_600_000
  return {
    now () {
      const phys = msToNtp64(init.now())
      last = phys > last ? phys : last + 1n
      return last
    },
    update (remote) {
      // one peer with a clock far ahead must not drag every node's clock with it
      if (remote > msToNtp64(init.now() + maxDelta)) return false
      if (remote > last) last = remote
      return true
    },
    last () { return last }
  }
}

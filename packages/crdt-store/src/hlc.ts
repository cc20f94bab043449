/** Options of a hybrid logical clock. */
export interface HlcInit {
  /** Physical time in milliseconds since the UNIX epoch. */
  now: () => number
}

/** A hybrid logical clock producing NTP64 timestamps (upper 32 bits seconds, lower 32 fraction). */
export interface Hlc {
  /** A new timestamp, strictly greater than every timestamp seen or produced before. */
  now(): bigint
  /** Moves the clock past a remote timestamp. */
  update(remote: bigint): void
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
  return {
    now () {
      const phys = msToNtp64(init.now())
      last = phys > last ? phys : last + 1n
      return last
    },
    update (remote) {
      if (remote > last) last = remote
    },
    last () { return last }
  }
}

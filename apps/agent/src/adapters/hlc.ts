/**
 * Converts an NTP64 timestamp (upper 32 bits seconds since the Unix epoch, lower 32 bits fraction, as
 * the store's hybrid logical clock stamps versions) to milliseconds; undefined when not a timestamp.
 */
export function ntp64ToMs (ts: unknown): number | undefined {
  if (typeof ts === 'bigint') {
    const secs = Number(ts >> 32n)
    const frac = Number(ts & 0xffffffffn) / 2 ** 32
    return (secs + frac) * 1000
  }
  if (typeof ts === 'number' && Number.isFinite(ts)) return ts
  return undefined
}

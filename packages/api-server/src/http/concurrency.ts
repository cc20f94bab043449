/**
 * Per-route in-flight limits with load shedding (Corrosion: 128 for data routes, 4 for
 * `table_stats` and `health`). A slot is held while the request is handled, until the response
 * head is produced; streamed bodies do not hold it.
 */

/** A counter of in-flight requests per route. */
export interface ConcurrencyLimiter {
  /** Takes a slot; false when the route is at its limit. */
  acquire(route: string): boolean
  release(route: string): void
  inFlight(route: string): number
}

/** Creates a limiter; `limitOf(route)` gives each route's limit. */
export function createConcurrencyLimiter (limitOf: (route: string) => number): ConcurrencyLimiter {
  const counts = new Map<string, number>()
  return {
    acquire (route) {
      const n = counts.get(route) ?? 0
      if (n >= limitOf(route)) return false
      counts.set(route, n + 1)
      return true
    },
    release (route) {
      const n = counts.get(route) ?? 0
      counts.set(route, Math.max(0, n - 1))
    },
    inFlight (route) { return counts.get(route) ?? 0 }
  }
}

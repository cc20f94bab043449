/**
 * Lifeguard's dogpile suspicion timeout (memberlist `remainingSuspicionTime`): starts at `max` and
 * shrinks towards `min` as `confirmations` independent suspicions arrive, reaching `min` at `k`.
 * Returns the total timeout (from the start of the suspicion), never below `min`.
 */
export function suspicionTimeout (confirmations: number, k: number, min: number, max: number): number {
  if (k < 1 || max <= min) return min
  const frac = Math.log(confirmations + 1) / Math.log(k + 1)
  const raw = max - frac * (max - min)
  return Math.max(min, Math.floor(raw))
}

/**
 * Lifeguard local health multiplier (LHM): a saturating counter in [0, max-1]. Failed probes and
 * refutations raise it, successful probes lower it; probe interval and timeout scale by (score+1).
 */
export class Awareness {
  private score = 0
  private readonly max: number

  constructor (max: number) {
    this.max = max
  }

  /** Adds delta, clamped to [0, max-1]. */
  apply (delta: number): void {
    this.score = Math.min(this.max - 1, Math.max(0, this.score + delta))
  }

  /** The current score (0 = healthy). */
  health (): number {
    return this.score
  }

  /** Scales a timeout by (score+1). */
  scale (ms: number): number {
    return ms * (this.score + 1)
  }
}

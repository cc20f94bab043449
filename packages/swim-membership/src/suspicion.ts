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

/** One running suspicion: the state it is about and who confirmed it. */
export interface Suspicion {
  generation: number
  incarnation: number
  startedAt: number
  /** Who suspected first (not counted as a confirmation). */
  origin: string
  confirmers: Set<string>
  /** Token of the live timer; older timers are stale. */
  token: number
  min: number
  max: number
  /** Confirmations needed to reach `min` (0: fixed timeout). */
  k: number
}

/** The running suspicions by member id, with Lifeguard's confirmation arithmetic. */
export class SuspicionTracker {
  private readonly byId = new Map<string, Suspicion>()

  /** The running suspicion of `id`, if any. */
  get (id: string): Suspicion | undefined {
    return this.byId.get(id)
  }

  /** Ends the suspicion of `id` (refuted, or the member changed state). */
  delete (id: string): void {
    this.byId.delete(id)
  }

  /** Suspicions running. */
  get size (): number {
    return this.byId.size
  }

  /** Starts (or restarts) a suspicion; returns the timer to schedule. */
  start (rec: { id: string, generation: number, incarnation: number }, origin: string, limits: { min: number, max: number, k: number }, token: number, now: number): { token: number, afterMs: number } {
    this.byId.set(rec.id, { generation: rec.generation, incarnation: rec.incarnation, startedAt: now, origin, confirmers: new Set(), token, ...limits })
    return { token, afterMs: Math.ceil(suspicionTimeout(0, limits.k, limits.min, limits.max)) }
  }

  /**
   * Counts an independent confirmation; returns the shortened timer to schedule, or undefined when
   * it is not new (the origin, a repeat, or already K confirmations).
   */
  confirm (id: string, from: string, nextToken: () => number, now: number): { token: number, afterMs: number } | undefined {
    const s = this.byId.get(id)
    if (s === undefined || from === '' || from === s.origin || s.confirmers.has(from) || s.k === 0 || s.confirmers.size >= s.k) return undefined
    s.confirmers.add(from)
    s.token = nextToken()
    const total = suspicionTimeout(s.confirmers.size, s.k, s.min, s.max)
    return { token: s.token, afterMs: Math.max(0, Math.ceil(total - (now - s.startedAt))) }
  }
}

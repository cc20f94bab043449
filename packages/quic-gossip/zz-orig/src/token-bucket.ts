/**
 * Byte-rate limiter. Pure: the caller passes the current time in ms.
 */
export class TokenBucket {
  readonly ratePerSec: number
  readonly burst: number
  #tokens: number
  #at: number

  constructor (ratePerSec: number, burst: number, now: number) {
    this.ratePerSec = ratePerSec
    this.burst = burst
    this.#tokens = burst
    this.#at = now
  }

  /** Tokens available at `now`. */
  available (now: number): number {
    this.#refill(now)
    return this.#tokens
  }

  /** Spend `n` tokens (may go negative: the debt delays later sends). */
  spend (n: number, now: number): void {
    this.#refill(now)
    this.#tokens -= n
  }

  /** Milliseconds until at least `n` tokens (capped at the burst) are available. */
  waitMs (n: number, now: number): number {
    this.#refill(now)
    const want = Math.min(n, this.burst)
    if (this.#tokens >= want) return 0
    return Math.ceil(((want - this.#tokens) / this.ratePerSec) * 1000)
  }

  #refill (now: number): void {
    if (now > this.#at) {
      this.#tokens = Math.min(this.burst, this.#tokens + ((now - this.#at) / 1000) * this.ratePerSec)
      this.#at = now
    }
  }
}

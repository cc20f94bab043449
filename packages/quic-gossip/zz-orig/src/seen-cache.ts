/**
 * Bounded set of recently seen keys. Oldest-inserted keys are evicted first, so memory stays
 * bounded however many payloads flow; a key evicted long ago may be seen as new again, which the
 * store's own idempotence absorbs.
 */
export class SeenCache {
  readonly capacity: number
  readonly #keys = new Set<string>()

  constructor (capacity: number) {
    this.capacity = Math.max(1, capacity)
  }

  /** Number of keys held. */
  get size (): number {
    return this.#keys.size
  }

  /** True when `key` was seen (and is still remembered). */
  has (key: string): boolean {
    return this.#keys.has(key)
  }

  /** Remember `key`; returns false when it was already known. */
  add (key: string): boolean {
    if (this.#keys.has(key)) return false
    this.#keys.add(key)
    if (this.#keys.size > this.capacity) {
      const oldest = this.#keys.values().next()
      if (oldest.done !== true) this.#keys.delete(oldest.value)
    }
    return true
  }

  /** Forget everything. */
  clear (): void {
    this.#keys.clear()
  }
}

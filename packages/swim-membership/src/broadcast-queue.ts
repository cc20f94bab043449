/** One queued item: pre-encoded bytes and how often they have been sent. */
interface QueueItem {
  key: string
  bytes: Uint8Array
  transmits: number
  order: number
}

/**
 * A transmit-limited queue (memberlist's TransmitLimitedQueue, SWIM §4.1): items are piggybacked
 * fewest-sent first (newest first among equals) and dropped after `limit` transmissions. A newer
 * item with the same key replaces the older one. Bounded: when full, the most-sent item goes.
 */
export class BroadcastQueue {
  private readonly items = new Map<string, QueueItem>()
  private order = 0
  private readonly maxSize: number
  /** Called with the key of an item that reached its transmit limit. */
  onRetired: ((key: string) => void) | undefined

  constructor (maxSize: number) {
    this.maxSize = maxSize
  }

  /** Number of queued items. */
  get size (): number {
    return this.items.size
  }

  /** Queues bytes under key, replacing any older item with that key. */
  enqueue (key: string, bytes: Uint8Array): void {
    this.items.delete(key)
    if (this.items.size >= this.maxSize) this.dropMostSent()
    this.items.set(key, { key, bytes, transmits: 0, order: this.order++ })
  }

  /** Whether an item is queued under key. */
  has (key: string): boolean {
    return this.items.has(key)
  }

  /** Removes the item under key, if any. */
  delete (key: string): void {
    this.items.delete(key)
  }

  /** Transmissions so far of the item under key, or undefined when not queued. */
  transmits (key: string): number | undefined {
    return this.items.get(key)?.transmits
  }

  /**
   * Picks items that fit in `budget` bytes (each costing its length plus `overhead`), counts one
   * transmission each and retires those that reach `limit`. `skip` excludes keys already chosen.
   */
  select (budget: number, limit: number, overhead = 0, skip?: ReadonlySet<string>): Uint8Array[] {
    if (this.items.size === 0 || budget <= 0) return []
    const sorted = [...this.items.values()].sort((a, b) => a.transmits - b.transmits || b.order - a.order)
    const out: Uint8Array[] = []
    let left = budget
    for (const item of sorted) {
      const cost = item.bytes.length + overhead
      if (cost > left) {
        if (left < 16) break
        continue
      }
      if (skip?.has(item.key) === true) continue
      left -= cost
      out.push(item.bytes)
      item.transmits++
      if (item.transmits >= limit) {
        this.items.delete(item.key)
        this.onRetired?.(item.key)
      }
    }
    return out
  }

  private dropMostSent (): void {
    let worst: QueueItem | undefined
    for (const item of this.items.values()) {
      if (worst === undefined || item.transmits > worst.transmits || (item.transmits === worst.transmits && item.order < worst.order)) worst = item
    }
    if (worst !== undefined) this.items.delete(worst.key)
  }
}

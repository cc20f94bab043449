/** A min-heap of events ordered by (at, seq): ties resolve in insertion order, so runs are deterministic. */
export class EventQueue<T> {
  private readonly heap: Array<{ at: number, seq: number, value: T }> = []
  private seq = 0

  /** Events queued. */
  get size (): number {
    return this.heap.length
  }

  /** Queues `value` at virtual time `at` (ties keep insertion order). */
  push (at: number, value: T): void {
    const h = this.heap
    h.push({ at, seq: this.seq++, value })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!less(h[i]!, h[p]!)) break
      const t = h[i]!
      h[i] = h[p]!
      h[p] = t
      i = p
    }
  }

  /** Time of the earliest event, if any. */
  peekAt (): number | undefined {
    return this.heap[0]?.at
  }

  /** Removes and returns the earliest event. */
  pop (): { at: number, value: T } | undefined {
    const h = this.heap
    const top = h[0]
    if (top === undefined) return undefined
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && less(h[l]!, h[m]!)) m = l
        if (r < h.length && less(h[r]!, h[m]!)) m = r
        if (m === i) break
        const t = h[i]!
        h[i] = h[m]!
        h[m] = t
        i = m
      }
    }
    return top
  }
}

function less (a: { at: number, seq: number }, b: { at: number, seq: number }): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq)
}

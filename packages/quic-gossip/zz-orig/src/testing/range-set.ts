/** An inclusive range `[start, end]` of sequence numbers. */
export type Range = [number, number]

/**
 * A set of integers kept as sorted, disjoint, non-adjacent inclusive ranges: a version vector
 * with gaps fits in a few ranges per origin.
 */
export class RangeSet {
  #r: Range[]

  constructor (ranges: readonly Range[] = []) {
    this.#r = []
    for (const [s, e] of ranges) this.addRange(s, e)
  }

  /** The ranges, sorted (do not mutate). */
  ranges (): readonly Range[] {
    return this.#r
  }

  /** Number of integers held. */
  count (): number {
    let n = 0
    for (const [s, e] of this.#r) n += e - s + 1
    return n
  }

  /** Largest integer held, or 0. */
  max (): number {
    return this.#r[this.#r.length - 1]?.[1] ?? 0
  }

  /** True when `n` is in the set. */
  has (n: number): boolean {
    let lo = 0
    let hi = this.#r.length - 1
    while (lo <= hi) {
      const mid = (lo + hi) >> 1
      const [s, e] = this.#r[mid] as Range
      if (n < s) hi = mid - 1
      else if (n > e) lo = mid + 1
      else return true
    }
    return false
  }

  /** Add one integer. */
  add (n: number): void {
    this.addRange(n, n)
  }

  /** Add `[s, e]`, merging with overlapping or adjacent ranges. */
  addRange (s: number, e: number): void {
    if (e < s) return
    const last = this.#r[this.#r.length - 1]
    // fast path: appending in order, the common case for a writer's own versions
    if (last == null || s > last[1] + 1) {
      this.#r.push([s, e])
      return
    }
    if (s >= last[0] && s <= last[1] + 1 && e >= last[1]) {
      last[1] = e
      return
    }
    const out: Range[] = []
    let ns = s
    let ne = e
    let placed = false
    for (const r of this.#r) {
      if (r[1] < ns - 1) out.push(r)
      else if (r[0] > ne + 1) {
        if (!placed) { out.push([ns, ne]); placed = true }
        out.push(r)
      } else {
        ns = Math.min(ns, r[0])
        ne = Math.max(ne, r[1])
      }
    }
    if (!placed) out.push([ns, ne])
    this.#r = out
  }

  /** Integers in this set and not in `other`. */
  subtract (other: RangeSet): RangeSet {
    const out = new RangeSet()
    const b = other.ranges()
    let j = 0
    for (const [s0, e] of this.#r) {
      let s = s0
      while (j < b.length && (b[j] as Range)[1] < s) j++
      let k = j
      while (s <= e) {
        const r = b[k]
        if (r == null || r[0] > e) { out.addRange(s, e); break }
        if (r[0] > s) out.addRange(s, r[0] - 1)
        s = Math.max(s, r[1] + 1)
        k++
      }
    }
    return out
  }

  /** Integers in both sets. */
  intersect (other: RangeSet): RangeSet {
    const out = new RangeSet()
    const a = this.#r
    const b = other.ranges()
    let i = 0
    let j = 0
    while (i < a.length && j < b.length) {
      const [as, ae] = a[i] as Range
      const [bs, be] = b[j] as Range
      const s = Math.max(as, bs)
      const e = Math.min(ae, be)
      if (s <= e) out.addRange(s, e)
      if (ae < be) i++
      else j++
    }
    return out
  }
}

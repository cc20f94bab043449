/**
 * Inclusive integer ranges `[from, to]`, kept sorted and merged. Functions here return new lists
 * and never change a range tuple in place, so lists may share tuples.
 */
export type Range = [number, number]

/** Adds `[a, b]` to a sorted disjoint range list, merging neighbours. Returns a new list. */
export function addRange (list: readonly Range[], a: number, b: number): Range[] {
  const out: Range[] = []
  let s = a
  let e = b
  let placed = false
  // untouched ranges are shared with `list`, not copied: range tuples are never changed in place
  for (const r of list) {
    const [x, y] = r
    if (y < s - 1) { out.push(r); continue }
    if (x > e + 1) {
      if (!placed) { out.push([s, e]); placed = true }
      out.push(r)
      continue
    }
    s = Math.min(s, x)
    e = Math.max(e, y)
  }
  if (!placed) out.push([s, e])
  return out
}

/** Removes `[a, b]` from a sorted disjoint range list. Returns a new list. */
export function removeRange (list: readonly Range[], a: number, b: number): Range[] {
  const out: Range[] = []
  for (const r of list) {
    const [x, y] = r
    if (y < a || x > b) { out.push(r); continue }
    if (x < a) out.push([x, a - 1])
    if (y > b) out.push([b + 1, y])
  }
  return out
}

/** The parts of `[a, b]` not covered by `list`. */
export function subtract (a: number, b: number, list: readonly Range[]): Range[] {
  return removeRangesFrom([[a, b]], list)
}

/** `base` minus every range of `minus`; both sorted and disjoint. One linear pass. */
export function removeRangesFrom (base: readonly Range[], minus: readonly Range[]): Range[] {
  const out: Range[] = []
  let j = 0
  for (const [a, b] of base) {
    let s = a
    while (j < minus.length && minus[j]![1] < s) j++
    let k = j
    while (s <= b) {
      const m = minus[k]
      if (m == null || m[0] > b) { out.push([s, b]); break }
      if (m[0] > s) out.push([s, m[0] - 1])
      s = Math.max(s, m[1] + 1)
      k++
    }
  }
  return out
}

/** The intersection of two sorted disjoint range lists. One linear pass. */
export function intersect (a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = []
  let i = 0
  let j = 0
  while (i < a.length && j < b.length) {
    const [x, y] = a[i]!
    const [u, v] = b[j]!
    const s = Math.max(x, u)
    const e = Math.min(y, v)
    if (s <= e) out.push([s, e])
    if (y < v) i++
    else j++
  }
  return out
}

/** Sorts ranges and merges overlapping or adjacent ones (for lists from the network). */
export function normalize (list: readonly Range[]): Range[] {
  const sorted = list.filter(r => r[0] <= r[1]).map(r => [r[0], r[1]] as Range).sort((p, q) => p[0] - q[0])
  const out: Range[] = []
  for (const r of sorted) {
    const last = out[out.length - 1]
    if (last != null && r[0] <= last[1] + 1) last[1] = Math.max(last[1], r[1])
    else out.push(r)
  }
  return out
}

/** True when `n` lies in one of the ranges. */
export function contains (list: readonly Range[], n: number): boolean {
  for (const [x, y] of list) if (n >= x && n <= y) return true
  return false
}

/** Number of integers covered. */
export function countRanges (list: readonly Range[]): number {
  let n = 0
  for (const [x, y] of list) n += y - x + 1
  return n
}

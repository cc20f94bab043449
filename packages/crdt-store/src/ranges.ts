/** Inclusive integer ranges `[from, to]`, kept sorted and merged. */
export type Range = [number, number]

/** Adds `[a, b]` to a sorted disjoint range list, merging neighbours. Returns a new list. */
export function addRange (list: readonly Range[], a: number, b: number): Range[] {
  const out: Range[] = []
  let s = a
  let e = b
  let placed = false
  for (const [x, y] of list) {
    if (y < s - 1) { out.push([x, y]); continue }
    if (x > e + 1) {
      if (!placed) { out.push([s, e]); placed = true }
      out.push([x, y])
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
  for (const [x, y] of list) {
    if (y < a || x > b) { out.push([x, y]); continue }
    if (x < a) out.push([x, a - 1])
    if (y > b) out.push([b + 1, y])
  }
  return out
}

/** The parts of `[a, b]` not covered by `list`. */
export function subtract (a: number, b: number, list: readonly Range[]): Range[] {
  return removeRangesFrom([[a, b]], list)
}

/** `base` minus every range of `minus`. */
export function removeRangesFrom (base: readonly Range[], minus: readonly Range[]): Range[] {
  let out: Range[] = base.map(r => [r[0], r[1]])
  for (const [x, y] of minus) out = removeRange(out, x, y)
  return out
}

/** The intersection of two sorted disjoint range lists. */
export function intersect (a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = []
  for (const [x, y] of a) {
    for (const [u, v] of b) {
      const s = Math.max(x, u)
      const e = Math.min(y, v)
      if (s <= e) out.push([s, e])
    }
  }
  return out.sort((p, q) => p[0] - q[0])
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

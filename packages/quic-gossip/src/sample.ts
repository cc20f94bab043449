/**
 * `count` distinct elements of `items` picked uniformly at random (a partial Fisher–Yates
 * shuffle over a copy), in random order. `random` returns numbers in [0, 1).
 */
export function sample<T> (items: readonly T[], count: number, random: () => number): T[] {
  const pool = items.slice()
  const n = Math.min(pool.length, Math.max(0, count))
  for (let i = 0; i < n; i++) {
    const j = i + Math.floor(random() * (pool.length - i))
    const t = pool[i] as T
    pool[i] = pool[j] as T
    pool[j] = t
  }
  return pool.slice(0, n)
}

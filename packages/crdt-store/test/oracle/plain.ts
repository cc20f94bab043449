/**
 * Deep copy that turns every `Uint8Array` subclass (e.g. Node's `Buffer`, which decoders may hand
 * back) into a plain `Uint8Array`, so deep equality compares bytes, not constructors.
 */
export function plain<T> (v: T): T {
  if (v instanceof Uint8Array) return Uint8Array.from(v) as T
  if (Array.isArray(v)) return v.map(plain) as T
  if (v !== null && typeof v === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) out[k] = plain(x)
    return out as T
  }
  return v
}

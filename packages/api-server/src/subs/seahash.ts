/**
 * SeaHash (64-bit), written from its published specification: Corrosion reports
 * `corro-query-hash` as the SeaHash of a subscription's expanded SQL, big-endian hex.
 */

const MASK = (1n << 64n) - 1n
const P = 0x6eed0e9da4d94a4fn

// The diffusion g(x) = j(h(j(x))): multiply by P mod 2^64, then a data-dependent shift xor.
function diffuse (x: bigint): bigint {
  x = (x * P) & MASK
  x ^= (x >> 32n) >> (x >> 60n)
  return (x * P) & MASK
}

/** SeaHash of `bytes` as an unsigned 64-bit bigint. */
export function seahash (bytes: Uint8Array): bigint {
  const s = [0x16f11fe89b0d677cn, 0xb480a793d8e6c86cn, 0x6fe2e5aaf078ebc9n, 0x14f994a4c5259381n]
  let lane = 0
  for (let i = 0; i < bytes.length; i += 8) {
    // One little-endian 64-bit word; a short last word is zero-padded.
    let n = 0n
    for (let k = Math.min(7, bytes.length - 1 - i); k >= 0; k--) n = (n << 8n) | BigInt(bytes[i + k] as number)
    s[lane] = diffuse((s[lane] as bigint) ^ n)
    lane = (lane + 1) & 3
  }
  const [a, b, c, d] = s as [bigint, bigint, bigint, bigint]
  return diffuse(a ^ b ^ c ^ d ^ BigInt(bytes.length))
}

/** SeaHash of a UTF-8 string as 16 lowercase hex chars (big-endian), as Corrosion prints it. */
export function seahashHex (text: string): string {
  return seahash(Buffer.from(text, 'utf8')).toString(16).padStart(16, '0')
}

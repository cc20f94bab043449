import { randomBytes } from 'node:crypto'

/** Lowercase hex of bytes. */
export function hex (b: Uint8Array): string { return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex') }

/** A new 16-byte site id in UUIDv4 layout. */
export function newSiteId (): Uint8Array {
  const b = randomBytes(16)
  b[6] = (b[6]! & 0x0f) | 0x40
  b[8] = (b[8]! & 0x3f) | 0x80
  return new Uint8Array(b)
}

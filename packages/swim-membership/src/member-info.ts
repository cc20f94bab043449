import { MAX_ADDR_BYTES, MAX_ID_BYTES } from './codec.ts'
import type { Update } from './codec.ts'
import { InvalidIdentityError } from './errors.ts'
import type { MemberRecord } from './member-table.ts'
import type { MemberInfo } from './types.ts'

/** The update that describes a record's current state (`from` is kept for suspicions). */
export function toUpdate (rec: MemberRecord, from: string): Update {
  const u: Update = { id: rec.id, addr: rec.addr, meta: rec.meta, generation: rec.generation, incarnation: rec.incarnation, state: rec.state }
  if (rec.state === 'suspect') u.from = from
  return u
}

/** A public copy of a record. */
export function memberInfo (rec: MemberRecord): MemberInfo {
  return { id: rec.id, addr: rec.addr, meta: rec.meta, incarnation: rec.incarnation, generation: rec.generation, state: rec.state }
}

/** Byte-wise equality. */
export function bytesEqual (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

const encoder = new TextEncoder()

/** UTF-8 length of a string. */
export function byteLength (s: string): number {
  return encoder.encode(s).length
}

/** Throws InvalidIdentityError when an id, address or metadata is unusable. */
export function validateIdentity (id: unknown, addr: unknown, meta: unknown, maxMeta: number): void {
  if (typeof id !== 'string' || id === '' || byteLength(id) > MAX_ID_BYTES) throw new InvalidIdentityError(`Member id must be a string of 1..${MAX_ID_BYTES} bytes`)
  if (typeof addr !== 'string' || addr === '' || byteLength(addr) > MAX_ADDR_BYTES) throw new InvalidIdentityError(`Member addr must be a string of 1..${MAX_ADDR_BYTES} bytes`)
  if (!(meta instanceof Uint8Array)) throw new InvalidIdentityError('Member meta must be a Uint8Array')
  if (meta.length > maxMeta) throw new InvalidIdentityError(`Member meta is ${meta.length} bytes, over the ${maxMeta}-byte limit`)
}

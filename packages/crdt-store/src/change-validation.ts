import { MalformedChangesetError } from './errors.ts'
import { hex } from './hex.ts'
import type { Change, Changeset } from './types.ts'

/** True for the JS shapes of SQLite values. */
export function isSqlValue (v: unknown): boolean {
  return v === null || typeof v === 'number' || typeof v === 'bigint' || typeof v === 'string' || v instanceof Uint8Array
}

/** Checks one change of a hand-built or decoded changeset; throws `MalformedChangesetError`. */
export function validateChange (c: Change, cs: Changeset, actorHex: string): void {
  const bad = (what: string): never => { throw new MalformedChangesetError(`a change ${what}`) }
  if (c == null || typeof c !== 'object') bad('must be an object')
  if (typeof c.table !== 'string' || typeof c.cid !== 'string') bad('needs string table and cid')
  if (!(c.pk instanceof Uint8Array)) bad('pk must be bytes')
  if (!isSqlValue(c.val)) bad('value must be null, a number, a bigint, a string or bytes')
  if (!Number.isSafeInteger(c.seq) || c.seq < cs.seqs[0] || c.seq > cs.seqs[1]) bad('seq must be an integer inside the changeset seq range')
  if (!Number.isSafeInteger(c.colVersion) || c.colVersion < 0 || !Number.isSafeInteger(c.cl) || c.cl < 0) bad('col_version and cl must be integers >= 0')
  // decoded changes share the changeset's actor array; anything else is compared as hex
  if (c.siteId != null && c.siteId !== cs.actor && (!(c.siteId instanceof Uint8Array) || hex(c.siteId) !== actorHex)) bad('site id differs from the changeset actor')
  if (c.dbVersion != null && c.dbVersion !== cs.version) bad('db_version differs from the changeset version')
}


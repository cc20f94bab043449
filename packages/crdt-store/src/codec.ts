import { Packr } from 'msgpackr'
import { MAX_SEQ, MAX_VERSION } from './crr-sql.ts'
import { MalformedChangesetError } from './errors.ts'
import type { Change, Changeset, SqlValue, SyncNeeds, SyncSummary } from './types.ts'

/** Wire format version; bump on an incompatible change. */
export const CODEC_VERSION = 1

// bigint always encodes as int64 and int64 always decodes as bigint, so INTEGER (bigint) and REAL
// (number) values keep their storage class across the wire.
const packr = new Packr({ useRecords: false, int64AsType: 'bigint', mapsAsObjects: true })

/** Largest encoded message the decoders accept (64 MiB). */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024

function fail (what: string): never { throw new MalformedChangesetError(what) }

function unpackBytes (bytes: Uint8Array): unknown {
  if (!(bytes instanceof Uint8Array)) fail('input is not a byte array')
  if (bytes.length > MAX_MESSAGE_BYTES) fail(`message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  try {
    return packr.unpack(bytes)
  } catch (err) {
    return fail(`not valid msgpack: ${(err as Error).message}`)
  }
}

function int (v: unknown, what: string, min = 0): number {
  if (typeof v === 'bigint') v = Number(v)
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) fail(`${what} must be an integer >= ${min}`)
  return v as number
}

function bytes (v: unknown, what: string, len?: number): Uint8Array {
  if (!(v instanceof Uint8Array)) fail(`${what} must be bytes`)
  const b = v as Uint8Array
  if (len != null && b.length !== len) fail(`${what} must be ${len} bytes`)
  return new Uint8Array(b)
}

function str (v: unknown, what: string): string {
  if (typeof v !== 'string') fail(`${what} must be a string`)
  return v as string
}

function value (v: unknown): SqlValue {
  if (v === null || typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string') return v
  if (v instanceof Uint8Array) return new Uint8Array(v)
  return fail('change value must be null, integer, real, text or bytes')
}

function ranges (v: unknown, what: string): [number, number][] {
  if (!Array.isArray(v)) fail(`${what} must be a list of ranges`)
  return (v as unknown[]).map(r => {
    if (!Array.isArray(r) || r.length !== 2) fail(`${what} must hold [from, to] pairs`)
    const a = int(r[0], what)
    const b = int(r[1], what)
    if (a > b) fail(`${what} range [${a}, ${b}] is reversed`)
    return [a, b] as [number, number]
  })
}

/** Encodes a changeset (compact: table names are listed once, origin fields are implied). */
export function encodeChangeset (cs: Changeset): Uint8Array {
  const tables: string[] = []
  const index = new Map<string, number>()
  const rows = cs.changes.map(c => {
    let i = index.get(c.table)
    if (i == null) { i = tables.length; tables.push(c.table); index.set(c.table, i) }
    return [i, c.pk, c.cid, c.val, c.colVersion, c.cl, c.seq]
  })
  return packr.pack([CODEC_VERSION, 'cs', cs.actor, cs.version, cs.seqs[0], cs.seqs[1], cs.lastSeq, BigInt.asUintN(64, cs.ts), tables, rows])
}

/** Decodes and validates a changeset; throws `MalformedChangesetError` on anything wrong. */
export function decodeChangeset (input: Uint8Array): Changeset {
  const m = unpackBytes(input)
  if (!Array.isArray(m) || m.length !== 10) fail('changeset must be a 10-element array')
  if (m[0] !== CODEC_VERSION) fail(`unsupported changeset format ${String(m[0])}`)
  if (m[1] !== 'cs') fail('not a changeset message')
  const actor = bytes(m[2], 'actor', 16)
  const version = int(m[3], 'version', 1)
  if (version > MAX_VERSION) fail(`version ${version} exceeds ${MAX_VERSION}`)
  const s0 = int(m[4], 'seq start')
  const s1 = int(m[5], 'seq end')
  const lastSeq = int(m[6], 'last seq')
  if (lastSeq > MAX_SEQ) fail(`last seq ${lastSeq} exceeds ${MAX_SEQ}`)
  if (s0 > s1 || s1 > lastSeq) fail(`seq range [${s0}, ${s1}] does not fit last seq ${lastSeq}`)
  // a damaged message can carry a float here: BigInt() would throw an untyped RangeError
  if (typeof m[7] !== 'bigint' && !Number.isSafeInteger(m[7])) fail('ts must be an integer')
  const ts = BigInt(m[7] as bigint | number)
  if (ts < 0n) fail('ts must not be negative')
  if (!Array.isArray(m[8])) fail('tables must be a list')
  const tables = (m[8] as unknown[]).map(t => str(t, 'table'))
  if (!Array.isArray(m[9])) fail('changes must be a list')
  const changes: Change[] = (m[9] as unknown[]).map(r => {
    if (!Array.isArray(r) || r.length !== 7) fail('each change must be a 7-element array')
    const ti = int(r[0], 'table index')
    const table = tables[ti]
    if (table == null) fail(`table index ${ti} out of range`)
    const seq = int(r[6], 'seq')
    if (seq < s0 || seq > s1) fail(`change seq ${seq} outside the chunk's range [${s0}, ${s1}]`)
    return { table, pk: bytes(r[1], 'pk'), cid: str(r[2], 'cid'), val: value(r[3]), colVersion: int(r[4], 'col_version'), dbVersion: version, siteId: actor, cl: int(r[5], 'cl'), seq }
  })
  return { actor, version, seqs: [s0, s1], lastSeq, ts, changes }
}

/** Encodes a sync summary. */
export function encodeSummary (s: SyncSummary): Uint8Array {
  return packr.pack([CODEC_VERSION, 'sum', s.actors.map(a => [a.actor, a.head, a.gaps, a.partials.map(p => [p.version, p.seqs, p.lastSeq])])])
}

/** Decodes a sync summary; throws `MalformedChangesetError` on anything wrong. */
export function decodeSummary (input: Uint8Array): SyncSummary {
  const m = unpackBytes(input)
  if (!Array.isArray(m) || m.length !== 3 || m[0] !== CODEC_VERSION || m[1] !== 'sum' || !Array.isArray(m[2])) fail('not a summary message')
  return {
    actors: (m[2] as unknown[]).map(a => {
      if (!Array.isArray(a) || a.length !== 4 || !Array.isArray(a[3])) fail('bad actor summary')
      return {
        actor: bytes(a[0], 'actor', 16),
        head: int(a[1], 'head'),
        gaps: ranges(a[2], 'gaps'),
        partials: (a[3] as unknown[]).map(p => {
          if (!Array.isArray(p) || p.length !== 3) fail('bad partial')
          return { version: int(p[0], 'version', 1), seqs: ranges(p[1], 'seqs'), lastSeq: int(p[2], 'last seq') }
        })
      }
    })
  }
}

/** Encodes sync needs. */
export function encodeNeeds (n: SyncNeeds): Uint8Array {
  return packr.pack([CODEC_VERSION, 'need', n.actors.map(a => [a.actor, a.full, a.partial.map(p => [p.version, p.seqs])])])
}

/** Decodes sync needs; throws `MalformedChangesetError` on anything wrong. */
export function decodeNeeds (input: Uint8Array): SyncNeeds {
  const m = unpackBytes(input)
  if (!Array.isArray(m) || m.length !== 3 || m[0] !== CODEC_VERSION || m[1] !== 'need' || !Array.isArray(m[2])) fail('not a needs message')
  return {
    actors: (m[2] as unknown[]).map(a => {
      if (!Array.isArray(a) || a.length !== 3 || !Array.isArray(a[2])) fail('bad actor needs')
      return {
        actor: bytes(a[0], 'actor', 16),
        full: ranges(a[1], 'full'),
        partial: (a[2] as unknown[]).map(p => {
          if (!Array.isArray(p) || p.length !== 2) fail('bad partial need')
          return { version: int(p[0], 'version', 1), seqs: ranges(p[1], 'seqs') }
        })
      }
    })
  }
}

/** Internal: msgpack for stored blobs (row lists, buffered chunks). */
export function packInternal (v: unknown): Uint8Array { return packr.pack(v) }
/** Internal: the inverse of `packInternal`. */
export function unpackInternal (b: Uint8Array): unknown { return packr.unpack(b) }

/**
 * Codec and packed-key properties: changesets, summaries and needs round-trip exactly (INTEGER vs
 * REAL included); random or damaged bytes fail only with the typed errors, and a damaged changeset
 * that still decodes is either applied whole or rejected with nothing written. packPk agrees byte
 * for byte with the real cr-sqlite's crsql_pack_columns. Replay a failure with FC_SEED.
 */
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import {
  type Change, type Changeset, type SqlValue, type SyncNeeds, type SyncSummary,
  decodeChangeset, decodeNeeds, decodeSummary, encodeChangeset, encodeNeeds, encodeSummary, openStore, packPk, unpackPk
} from '../src/index.ts'
import { type OracleDb, createOracleDb } from './oracle/crsqlite-oracle.ts'
import { PROP_TIMEOUT, fcParams } from './oracle/fc-config.ts'
import { plain } from './oracle/plain.ts'
import { RANDOM_SCHEMA, txArb } from './oracle/random-ops.ts'
import { snapshot } from './oracle/store-snapshot.ts'
import { type Typed, blob, int, real, text, NULL } from './oracle/typed-value.ts'

const STORE_ERRORS = new Set(['SchemaChangeError', 'CrrRuleError', 'SqlError', 'UnknownTableError', 'UnknownColumnError', 'MalformedChangesetError', 'MalformedPkError'])

/** The store's limits: versions up to 2^39 - 1, seqs up to 2^24 - 1 (larger ones are refused). */
const MAX_VERSION = 2 ** 39 - 1
const MAX_SEQ = 2 ** 24 - 1
const seqArb = fc.integer({ min: 0, max: MAX_SEQ })

const bytesArb = (max = 40): fc.Arbitrary<Uint8Array> => fc.uint8Array({ maxLength: max })
const i64 = fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n })
const u32 = fc.integer({ min: 0, max: 2 ** 31 - 1 })
/** `Change.val`: INTEGER is a bigint, REAL a number (integral REALs included). */
const changeValArb: fc.Arbitrary<SqlValue> = fc.oneof(
  fc.constant(null),
  i64,
  fc.double({ noNaN: true }).map(d => (Object.is(d, -0) ? 0 : d)),
  fc.constantFrom(0, 1, 2, -3, 1e15, 2 ** 53, 2 ** 64),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  bytesArb()
)
/** A change of a given actor/version: the wire format implies dbVersion and siteId from the changeset. */
const changeArb = (actor: Uint8Array, version: number): fc.Arbitrary<Change> => fc.record({
  table: fc.string({ minLength: 1, maxLength: 12 }),
  pk: bytesArb(20),
  cid: fc.oneof(fc.constant('-1'), fc.string({ minLength: 1, maxLength: 12 })),
  val: changeValArb,
  colVersion: u32,
  dbVersion: fc.constant(version),
  siteId: fc.constant(actor),
  cl: u32,
  seq: u32
})
const changesetArb: fc.Arbitrary<Changeset> = fc.record({
  actor: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  version: fc.oneof(fc.integer({ min: 1, max: MAX_VERSION }), fc.constantFrom(1, MAX_VERSION)),
  seqs: fc.tuple(seqArb, seqArb).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]),
  extra: fc.nat(),
  ts: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })
}).chain(h => fc.array(changeArb(h.actor, h.version).chain(c => fc.integer({ min: h.seqs[0], max: h.seqs[1] }).map(seq => ({ ...c, seq }))), { maxLength: 6 })
  .map(changes => ({ actor: h.actor, version: h.version, seqs: h.seqs, lastSeq: Math.min(MAX_SEQ, h.seqs[1] + (h.extra % 3)), ts: h.ts, changes })))
const rangesArb = fc.array(fc.tuple(u32, u32).map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as [number, number]), { maxLength: 4 })
const summaryArb: fc.Arbitrary<SyncSummary> = fc.record({
  actors: fc.array(fc.record({
    actor: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    head: u32,
    gaps: rangesArb,
    partials: fc.array(fc.record({ version: fc.integer({ min: 1, max: 2 ** 31 }), seqs: rangesArb, lastSeq: u32 }), { maxLength: 3 })
  }), { maxLength: 4 })
})
const needsArb: fc.Arbitrary<SyncNeeds> = fc.record({
  actors: fc.array(fc.record({
    actor: fc.uint8Array({ minLength: 16, maxLength: 16 }),
    full: rangesArb,
    partial: fc.array(fc.record({ version: fc.integer({ min: 1, max: 2 ** 31 }), seqs: rangesArb }), { maxLength: 3 })
  }), { maxLength: 4 })
})

/** Runs `fn`; it must return or throw one of `names` (by `err.name`). */
function onlyTyped (names: ReadonlySet<string>, fn: () => unknown): { ok: true; value: unknown } | { ok: false; name: string } {
  try {
    return { ok: true, value: fn() }
  } catch (err) {
    const name = (err as Error).name
    if (!names.has(name)) throw new Error(`untyped failure ${name}: ${(err as Error).message}`, { cause: err })
    return { ok: false, name }
  }
}

describe('changeset codec', () => {
  test('round-trips any changeset exactly', () => {
    fc.assert(fc.property(changesetArb, cs => {
      expect(plain(decodeChangeset(encodeChangeset(cs)))).toEqual(cs)
    }), fcParams(300))
  }, PROP_TIMEOUT)

  test('keeps INTEGER and REAL apart, including integral REALs and 64-bit integers', () => {
    for (const val of [2, 2n, 0, 0n, -1, -1n, 2 ** 53, 2n ** 53n + 1n, -(2n ** 63n), 2n ** 63n - 1n, 1e300, Number.POSITIVE_INFINITY]) {
      const cs: Changeset = { actor: new Uint8Array(16), version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [{ table: 't', pk: Uint8Array.of(1, 9, 1), cid: 'a', val, colVersion: 1, dbVersion: 1, siteId: new Uint8Array(16), cl: 1, seq: 0 }] }
      const back = decodeChangeset(encodeChangeset(cs)).changes[0]?.val
      expect(typeof back, `type of ${String(val)}`).toBe(typeof val)
      expect(back).toEqual(val)
    }
  })

  test('decoded bytes do not alias the input buffer', () => {
    fc.assert(fc.property(changesetArb, cs => {
      const enc = encodeChangeset(cs)
      const decoded = decodeChangeset(enc)
      const want = plain(decoded)
      enc.fill(0xaa)
      expect(plain(decoded)).toEqual(want)
    }), fcParams(100))
  }, PROP_TIMEOUT)

  test('versions and seqs beyond the limits are refused when decoding', () => {
    const base: Changeset = { actor: new Uint8Array(16), version: 1, seqs: [0, 0], lastSeq: 0, ts: 1n, changes: [] }
    for (const bad of [{ ...base, version: MAX_VERSION + 1 }, { ...base, seqs: [0, MAX_SEQ + 1] as [number, number], lastSeq: MAX_SEQ + 1 }, { ...base, lastSeq: MAX_SEQ + 1 }]) {
      let enc: Uint8Array
      try { enc = encodeChangeset(bad) } catch (err) { expect((err as Error).name).toBe('MalformedChangesetError'); continue }
      expect(() => decodeChangeset(enc)).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
    }
    expect(plain(decodeChangeset(encodeChangeset({ ...base, version: MAX_VERSION, seqs: [0, MAX_SEQ], lastSeq: MAX_SEQ })))).toEqual({ ...base, version: MAX_VERSION, seqs: [0, MAX_SEQ], lastSeq: MAX_SEQ })
  })

  test('summaries and needs round-trip', () => {
    fc.assert(fc.property(summaryArb, needsArb, (s, n) => {
      expect(plain(decodeSummary(encodeSummary(s)))).toEqual(s)
      expect(plain(decodeNeeds(encodeNeeds(n)))).toEqual(n)
    }), fcParams(200))
  }, PROP_TIMEOUT)

  test('random bytes fail only with MalformedChangesetError', () => {
    const names = new Set(['MalformedChangesetError'])
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), bytes => {
      onlyTyped(names, () => decodeChangeset(bytes))
      onlyTyped(names, () => decodeSummary(bytes))
      onlyTyped(names, () => decodeNeeds(bytes))
    }), fcParams(2000))
  }, PROP_TIMEOUT)

  test('truncated or bit-flipped encodings fail only with MalformedChangesetError', () => {
    const names = new Set(['MalformedChangesetError'])
    fc.assert(fc.property(changesetArb, summaryArb, fc.nat(), fc.nat(), fc.integer({ min: 1, max: 255 }), (cs, s, cut, at, xor) => {
      for (const enc of [encodeChangeset(cs), encodeSummary(s)]) {
        const truncated = enc.subarray(0, cut % Math.max(1, enc.length))
        const flipped = Uint8Array.from(enc)
        if (flipped.length > 0) flipped[at % flipped.length]! ^= xor
        for (const bad of [truncated, flipped]) {
          onlyTyped(names, () => decodeChangeset(bad))
          onlyTyped(names, () => decodeSummary(bad))
          onlyTyped(names, () => decodeNeeds(bad))
        }
      }
    }), fcParams(500))
  }, PROP_TIMEOUT)

  test('decoders refuse non-bytes input with the typed error', () => {
    for (const bad of [undefined, null, 'x', 5, {}, [1, 2]] as unknown[]) {
      expect(() => decodeChangeset(bad as Uint8Array)).toThrow(expect.objectContaining({ name: 'MalformedChangesetError' }))
    }
  })
})

describe('real changesets through the codec', () => {
  test('changesets from real stores round-trip, and damaged ones apply whole or not at all', () => {
    fc.assert(fc.property(fc.array(txArb({ pkChanges: true }), { minLength: 1, maxLength: 6 }), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat(), (txs, at, xor, cut) => {
      let t = 1_700_000_000_000
      const src = openStore({ path: ':memory:', chunkBytes: 128, now: () => t++ })
      const dst = openStore({ path: ':memory:', chunkBytes: 128 })
      try {
        src.applySchema(RANDOM_SCHEMA)
        dst.applySchema(RANDOM_SCHEMA)
        const all: Changeset[] = []
        for (const tx of txs) all.push(...src.transaction(tx.map(sql => ({ sql }))).changesets)
        for (const cs of all) {
          const enc = encodeChangeset(cs)
          expect(plain(decodeChangeset(enc))).toEqual(plain(cs))
          // Damage it: flip one byte or cut it short.
          const flipped = Uint8Array.from(enc)
          flipped[at % flipped.length]! ^= xor
          for (const bad of [flipped, enc.subarray(0, cut % enc.length)]) {
            const decoded = onlyTyped(new Set(['MalformedChangesetError']), () => decodeChangeset(bad))
            if (!decoded.ok) continue
            const before = snapshot(dst)
            const statusBefore = dst.syncStatus()
            const r = onlyTyped(STORE_ERRORS, () => dst.apply(decoded.value as Changeset))
            if (!r.ok) {
              expect(snapshot(dst), `rejected (${r.name}) changeset left changes behind`).toEqual(before)
              expect(dst.syncStatus()).toEqual(statusBefore)
            }
          }
        }
        // The receiver is still healthy: the undamaged history applies and matches the source.
        const fresh = openStore({ path: ':memory:' })
        try {
          fresh.applySchema(RANDOM_SCHEMA)
          for (const cs of all) fresh.apply(decodeChangeset(encodeChangeset(cs)))
          expect(snapshot(fresh)).toEqual(snapshot(src))
          dst.transaction([{ sql: 'INSERT OR IGNORE INTO tags (k) VALUES (\'still-writable\')' }])
        } finally { fresh.close() }
      } finally {
        src.close()
        dst.close()
      }
    }), fcParams(60))
  }, PROP_TIMEOUT)
})

describe('packed primary keys', () => {
  let oracle: OracleDb
  beforeAll(async () => { oracle = await createOracleDb() })
  afterAll(async () => { await oracle.close() })

  const typedArb: fc.Arbitrary<Typed> = fc.oneof(
    fc.constant(NULL),
    i64.map(int),
    fc.double({ noNaN: true }).map(real),
    fc.string({ unit: 'grapheme', maxLength: 30 }).filter(s => !s.includes('\0')).map(text),
    fc.constantFrom(300, 70000).map(n => text('x'.repeat(n))),
    bytesArb(300).map(blob)
  )
  /** The JS value packPk gets for a typed value: INTEGER as bigint, REAL as a non-integral number when possible. */
  const toJs = (v: Typed): SqlValue => (v.type === 'null' ? null : v.value)

  test('packPk matches crsql_pack_columns byte for byte', async () => {
    await fc.assert(fc.asyncProperty(fc.array(typedArb, { minLength: 1, maxLength: 4 }), async vals => {
      // An integral REAL would pack as INTEGER through packPk's number rule; that case is covered below.
      const usable = vals.filter(v => v.type !== 'real' || !Number.isInteger(v.value))
      if (usable.length === 0) return
      const placeholders = usable.map(() => '?').join(', ')
      const rows = await oracle.query(`SELECT crsql_pack_columns(${placeholders})`, usable)
      const want = rows[0]?.[0]
      expect(want?.type).toBe('blob')
      const got = packPk(usable.map(toJs))
      expect(Buffer.from(got).toString('hex')).toBe(Buffer.from((want as { value: Uint8Array }).value).toString('hex'))
      // And back.
      const back = unpackPk(got)
      expect(back.length).toBe(usable.length)
      usable.forEach((v, i) => {
        const b = back[i]
        if (v.type === 'integer') expect(BigInt(b as number | bigint)).toBe(v.value)
        else if (v.type === 'real') expect(b).toBe(v.value)
        else expect(b).toEqual(toJs(v))
      })
    }), fcParams(300))
  }, PROP_TIMEOUT)

  test('documented encodings', () => {
    const cases: Array<[SqlValue[], string]> = [
      [[0], '0101'], [[1], '010901'], [[128], '010980'], [[256], '01110100'], [[-1], '0141ffffffffffffffff'],
      [[2147483648], '012180000000'], [[9007199254740993n], '013920000000000001'], [[1.5], '01023ff8000000000000'],
      [['a'], '010b0161'], [[''], '0103'], [[new Uint8Array(0)], '0104'], [[null], '0105'],
      [[12, 'str', Uint8Array.of(1, 2, 3)], '03090c0b037374720c03010203'], [[], '00']
    ]
    for (const [vals, hexWant] of cases) expect(Buffer.from(packPk(vals)).toString('hex'), JSON.stringify(vals, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v)).toBe(hexWant)
    // 1..7-byte integers are unsigned: 09 80 is +128, not -128.
    expect(unpackPk(Uint8Array.of(1, 0x09, 0x80))).toEqual([128])
  })

  test('unpackPk of random bytes fails only with MalformedPkError', () => {
    const names = new Set(['MalformedPkError'])
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), bytes => { onlyTyped(names, () => unpackPk(bytes)) }), fcParams(3000))
  }, PROP_TIMEOUT)
})

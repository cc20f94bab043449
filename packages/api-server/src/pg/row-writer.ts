import { formatOf } from './prepared.ts'
import { binarySupported, encodeBinary, encodeText, OID, typeSize } from './types.ts'
import { encodeCopyRow } from './copy-format.ts'
import * as msg from './wire/backend-messages.ts'
import type { CopyStatement } from './copy-format.ts'
import type { EngineOutput } from './query-engine.ts'
import type { ResultSet } from './result-set.ts'
import type { MessageWriter } from './wire/message-writer.ts'

/** Waits for `p`, or rejects with the signal's reason as soon as it aborts. */
export async function raceAbort (p: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (signal === undefined) return p
  signal.throwIfAborted()
  let onAbort: () => void = () => {}
  const aborted = new Promise<never>((_resolve, reject) => {
    onAbort = () => { reject(signal.reason) }
    signal.addEventListener('abort', onAbort, { once: true })
  })
  try {
    await Promise.race([p, aborted])
  } finally {
    signal.removeEventListener('abort', onAbort)
  }
}

/** Writes the RowDescription of a result, with each column's format (binary only where supported). */
export function describeRows (w: MessageWriter, result: ResultSet, formats: readonly number[]): void {
  msg.rowDescription(w, result.columns.map((c, i) => {
    const format = formatOf(formats, i) === 1 && binarySupported(c.oid) ? 1 : 0
    return { name: c.name, tableOid: 0, columnId: 0, typeOid: c.oid, typeSize: typeSize(c.oid), typeModifier: -1, format }
  }))
}

/**
 * Writes up to `maxRows` DataRows (0 = all), flushing every `flushEvery` bytes; returns how many
 * and whether rows remain. A cancel can arrive while a slow reader keeps the socket full.
 */
export async function writeRows (result: ResultSet, formats: readonly number[], maxRows: number, out: EngineOutput, flushEvery: number, signal?: AbortSignal): Promise<{ count: number, more: boolean }> {
  const cols = result.columns
  const binary = cols.map((c, i) => formatOf(formats, i) === 1 && binarySupported(c.oid))
  let count = 0
  const values: Array<string | Uint8Array | null> = new Array(cols.length)
  for (;;) {
    if (maxRows > 0 && count >= maxRows) return { count, more: true }
    const row = result.next()
    if (row === undefined) return { count, more: false }
    for (let i = 0; i < cols.length; i++) {
      const v = row[i] ?? null
      const oid = (cols[i] as { oid: number }).oid
      values[i] = binary[i] === true ? encodeBinary(v, oid) : encodeText(v, oid)
    }
    msg.dataRow(out.w, values)
    count++
    if (out.w.length >= flushEvery) {
      await raceAbort(out.flush(), signal)
      signal?.throwIfAborted()
    }
  }
}

/** Streams a result as a COPY TO STDOUT: CopyOutResponse, CopyData per row, CopyDone, `COPY n`. */
export async function writeCopyOut (read: ResultSet, copy: CopyStatement, out: EngineOutput, flushEvery: number, signal?: AbortSignal): Promise<void> {
  msg.copyOutResponse(out.w, read.columns.length)
  if (copy.header) msg.copyData(out.w, encodeCopyRow(read.columns.map((c) => c.name), copy))
  let count = 0
  for (let row = read.next(); row !== undefined; row = read.next()) {
    msg.copyData(out.w, encodeCopyRow(row.map((v, i) => encodeText(v, read.columns[i]?.oid ?? OID.text)), copy))
    count++
    if (out.w.length >= flushEvery) {
      await raceAbort(out.flush(), signal)
      signal?.throwIfAborted()
    }
  }
  msg.copyDone(out.w)
  msg.commandComplete(out.w, `COPY ${count}`)
}

/**
 * A bounded NDJSON response for long-lived streams (subscriptions, updates), written straight to
 * the HTTP response: the head goes out at once (a stream may have no event for a long time), then
 * the events queued during one event-loop turn go out as one chunk. With chunked transfer encoding
 * on an HTTP/1.1 socket, the chunk is framed here and written to the socket in a single write,
 * which skips the response's per-write corking and a stream pipe: with a thousand clients per
 * commit, that per-write cost is what adds up. When the client is slow, unsent bytes pile up in the
 * socket; past `maxBufferedBytes` the client is dropped (it receives an `error` event last) instead
 * of the server buffering without bound.
 */
import type { ServerResponse } from 'node:http'
import type { StreamListener } from '../subs/subscription.ts'

/** A stream listener writing to one HTTP response. */
export interface ClientStream extends StreamListener {
  readonly ended: boolean
  /** Called once when the stream ends for any reason (client gone, dropped, server stop). */
  onClose(fn: () => void): void
}

const CRLF = Buffer.from('\r\n')

// The same event Buffer goes to every client of a subscription in a row: frame it once.
let lastData: Buffer | null = null
let lastFramed: Buffer = CRLF
function frame (data: Buffer): Buffer {
  if (data !== lastData) {
    lastFramed = Buffer.concat([Buffer.from(data.length.toString(16)), CRLF, data, CRLF])
    lastData = data
  }
  return lastFramed
}

/**
 * Sends the response head (status 200, `headers`) on `res` and returns the stream that writes the
 * body. The caller has taken the response over from the framework (`reply.hijack()`).
 */
export function createClientStream (res: ServerResponse, headers: Record<string, string>, maxBufferedBytes: number): ClientStream {
  let ended = false
  let closed = false
  const closers: Array<() => void> = []
  const close = (): void => {
    closed = true
    for (const fn of closers.splice(0)) { try { fn() } catch { /* closing must not throw */ } }
  }
  res.once('close', () => { ended = true; close() })
  res.writeHead(200, headers)
  res.flushHeaders()

  const write = (data: string | Buffer): void => {
    const socket = res.socket
    // Framed here only while this response owns the socket and its head is out (a pipelined
    // response waiting its turn has no socket yet: the response buffers it in order).
    if (socket != null && res.chunkedEncoding && res.headersSent && !socket.destroyed) {
      if (data.length === 0) return
      socket.write(typeof data === 'string' ? `${Buffer.byteLength(data).toString(16)}\r\n${data}\r\n` : frame(data))
      return
    }
    res.write(data)
  }
  let pending: Array<string | Buffer> = []
  let pendingBytes = 0
  const flush = (): void => {
    if (pending.length === 0) return
    const out = pending
    pending = []
    pendingBytes = 0
    if (closed) return
    if (out.length === 1) write(out[0] as string | Buffer)
    else write(out.every(d => typeof d === 'string') ? out.join('') : Buffer.concat(out.map(d => typeof d === 'string' ? Buffer.from(d) : d)))
  }

  return {
    get ended () { return ended },
    send (line, force = false) {
      if (ended) return true
      if (!force && res.writableLength + pendingBytes + line.length > maxBufferedBytes) return false
      pending.push(line)
      pendingBytes += line.length
      later(flush)
      return true
    },
    end (lastLine) {
      if (ended) return
      ended = true
      if (lastLine != null) pending.push(lastLine)
      flush()
      res.end()
      close()
    },
    onClose (fn) { if (closed) fn(); else closers.push(fn) }
  }
}

// Writes queued during one turn of the event loop go out together after it (one nextTick for all
// streams): a burst of back-to-back socket writes is cheaper than writes spread over the time the
// events took to compute, as the reading side stays awake through a burst.
const due = new Set<() => void>()
let flushing = false
function later (flush: () => void): void {
  due.add(flush)
  if (!flushing) { flushing = true; process.nextTick(flushDue) }
}
function flushDue (): void {
  flushing = false
  const all = [...due]
  due.clear()
  for (const f of all) f()
}

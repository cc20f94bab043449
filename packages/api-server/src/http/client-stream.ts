/**
 * A bounded NDJSON response body for long-lived streams (subscriptions, updates). Lines are queued
 * in a Readable that the HTTP layer pipes to the socket; when the socket is slow, the queue grows,
 * and past `maxBufferedBytes` the client is dropped (it receives an `error` event last) instead of
 * the server buffering without bound.
 */
import { Readable } from 'node:stream'
import type { StreamListener } from '../subs/subscription.ts'

/** A stream listener plus the body to send. */
export interface ClientStream extends StreamListener {
  readonly body: Readable
  readonly ended: boolean
  /** Called once when the stream ends for any reason (client gone, dropped, server stop). */
  onClose(fn: () => void): void
}

/** Creates a client stream that holds at most about `maxBufferedBytes` of unsent events. */
export function createClientStream (maxBufferedBytes: number): ClientStream {
  let ended = false
  const closers: Array<() => void> = []
  const body = new Readable({ read () {}, highWaterMark: 64 * 1024 })
  const close = (): void => {
    for (const fn of closers.splice(0)) { try { fn() } catch { /* closing must not throw */ } }
  }
  body.on('close', () => { ended = true; close() })
  return {
    body,
    get ended () { return ended },
    send (line, force = false) {
      if (ended) return true
      if (!force && body.readableLength + line.length > maxBufferedBytes) return false
      body.push(line)
      return true
    },
    end (lastLine) {
      if (ended) return
      ended = true
      if (lastLine != null) body.push(lastLine)
      body.push(null)
      close()
    },
    onClose (fn) { if (ended && body.destroyed) fn(); else closers.push(fn) }
  }
}

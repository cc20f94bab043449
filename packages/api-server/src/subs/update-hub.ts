/**
 * `POST /v1/updates/:table`: one shared handle per table; every committed change (local or remote)
 * to the table is sent to its clients as `{"notify":[type, [pk…]]}` (`delete` for deletions,
 * `update` for inserts and updates, as Corrosion reports them).
 */
import { encodeRow, stringifyJson } from '../statement.ts'
import type { ApiStore, CommitEvent } from '../ports.ts'
import type { StreamListener } from './subscription.ts'
import { errorLine } from './subscription.ts'
import { randomUUID } from 'node:crypto'

/** Per-table notification fan-out. */
export interface UpdateHub {
  /** Attaches a client to the table's handle; returns the handle id and a detach function. */
  watch(table: string, listener: StreamListener): { id: string, detach: () => void }
  /** Number of tables with clients. */
  readonly size: number
  start(): void
  stop(): void
}

/** Creates the hub over the store's commit notifications. */
export function createUpdateHub (store: ApiStore): UpdateHub {
  const handles = new Map<string, { id: string, listeners: Set<StreamListener> }>()
  let unsubscribe: (() => void) | null = null

  function onCommit (event: CommitEvent): void {
    // reading `changes` builds them: skip it while no client watches any table
    if (handles.size === 0) return
    const texts = new Map<string, string>()
    for (const c of event.changes) {
      if (!handles.has(c.table)) continue
      const line = stringifyJson({ notify: [c.kind === 'delete' ? 'delete' : 'update', encodeRow(c.pkValues)] }) + '\n'
      texts.set(c.table, (texts.get(c.table) ?? '') + line)
    }
    for (const [table, text] of texts) {
      const h = handles.get(table)
      if (h == null) continue
      for (const l of [...h.listeners]) {
        if (!l.send(text)) {
          h.listeners.delete(l)
          l.end(errorLine('client too slow: too many events buffered, disconnecting'))
        }
      }
      if (h.listeners.size === 0) handles.delete(table)
    }
  }

  return {
    watch (table, listener) {
      let h = handles.get(table)
      if (h == null) handles.set(table, h = { id: randomUUID(), listeners: new Set() })
      h.listeners.add(listener)
      const handle = h
      return {
        id: h.id,
        detach: () => {
          handle.listeners.delete(listener)
          if (handle.listeners.size === 0 && handles.get(table) === handle) handles.delete(table)
        }
      }
    },
    get size () { return handles.size },
    start () { if (unsubscribe == null) unsubscribe = store.onCommit(onCommit) },
    stop () {
      unsubscribe?.()
      unsubscribe = null
      for (const h of handles.values()) for (const l of h.listeners) l.end()
      handles.clear()
    }
  }
}

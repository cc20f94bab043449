import type { SyncPort } from '../../src/index.ts'
import { MemoryVersionStore } from '../../src/testing/index.ts'

/**
 * An in-memory store whose sync port holds every served session until `release()`: a test can keep
 * a server's serving slots busy for as long as it needs.
 */
export function gatedStore (): { store: MemoryVersionStore, port: SyncPort, release: () => void } {
  let release: () => void = () => {}
  const gate = new Promise<void>((resolve) => { release = resolve })
  const store = new MemoryVersionStore()
  async function * serveSlowly (needs: Uint8Array): AsyncIterable<Uint8Array> {
    await gate
    yield * store.serve(needs)
  }
  const port: SyncPort = {
    summary: () => store.summary(),
    needs: (r) => store.needs(r),
    serve: (n) => serveSlowly(n),
    apply: (c) => { store.apply(c) }
  }
  return { store, port, release }
}

// The api-server's ApiStore compliance suite, run against the agent's adapter over the real crdt-store.
import { openStore } from '@patina/crdt-store'
import { apiStoreCompliance } from '@patina/api-server/testing'
import { createApiStore } from '../src/adapters/api-store.ts'

apiStoreCompliance({
  async setup (schema) {
    const store = openStore({ path: ':memory:' })
    store.applySchema(schema)
    const broadcast: unknown[] = []
    const api = createApiStore({ store, guard: fn => fn(), onLocalCommit: cs => { broadcast.push(...cs) } })
    return { store: api, teardown: async () => { store.close() } }
  }
})

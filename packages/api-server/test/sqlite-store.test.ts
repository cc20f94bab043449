import { apiStoreCompliance } from '../src/testing/index.ts'
import { createSqliteApiStore } from './support/sqlite-store.ts'

// The test store must itself pass the suite every store has to pass.
apiStoreCompliance({
  async setup (schema) {
    const store = createSqliteApiStore({ schema })
    return { store, async teardown () { store.close() } }
  }
})

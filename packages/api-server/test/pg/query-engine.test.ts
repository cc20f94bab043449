import fc from 'fast-check'
import { afterEach, describe, expect, it } from 'vitest'
import { createCatalog } from '../../src/pg/catalog.ts'
import { queryEngine } from '../../src/pg/query-engine.ts'
import { MessageWriter } from '../../src/pg/wire/message-writer.ts'
import { createSqliteApiStore } from '../support/sqlite-store.ts'
import type { SqliteApiStore } from '../support/sqlite-store.ts'
import type { EngineOutput } from '../../src/pg/query-engine.ts'

type Cmd =
  | { op: 'begin' } | { op: 'commit' } | { op: 'rollback' } | { op: 'bad' }
  | { op: 'insert', k: number } | { op: 'delete', k: number }

const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  fc.constant({ op: 'begin' } as const),
  fc.constant({ op: 'commit' } as const),
  fc.constant({ op: 'rollback' } as const),
  fc.constant({ op: 'bad' } as const),
  fc.integer({ min: 1, max: 4 }).map((k) => ({ op: 'insert', k }) as const),
  fc.integer({ min: 1, max: 4 }).map((k) => ({ op: 'delete', k }) as const)
)

function sqlOf (c: Cmd): string {
  switch (c.op) {
    case 'begin': return 'BEGIN'
    case 'commit': return 'COMMIT'
    case 'rollback': return 'ROLLBACK'
    case 'bad': return 'SELECT * FROM no_such_table'
    case 'insert': return `INSERT INTO t (k) VALUES (${c.k})`
    case 'delete': return `DELETE FROM t WHERE k = ${c.k}`
  }
}

/** The reference model of what PostgreSQL-over-a-batching-store should do. */
class Model {
  committed = new Set<number>()
  pending: Cmd[] = []
  status: 'I' | 'T' | 'E' = 'I'

  apply (c: Cmd): void {
    if (this.status === 'E' && c.op !== 'commit' && c.op !== 'rollback') return
    switch (c.op) {
      case 'begin': if (this.status === 'I') { this.status = 'T'; this.pending = [] } return
      case 'rollback': this.status = 'I'; this.pending = []; return
      case 'bad': if (this.status === 'T') this.status = 'E'; return
      case 'commit': {
        if (this.status === 'T') {
          const next = new Set(this.committed)
          let ok = true
          for (const p of this.pending) ok = ok && this.step(next, p)
          if (ok) this.committed = next
        }
        this.status = 'I'
        this.pending = []
        return
      }
      default:
        if (this.status === 'T') this.pending.push(c)
        else this.step(this.committed, c)
    }
  }

  private step (set: Set<number>, c: Cmd): boolean {
    if (c.op === 'insert') {
      if (set.has(c.k)) return false
      set.add(c.k)
    } else if (c.op === 'delete') {
      set.delete(c.k)
    }
    return true
  }
}

describe('query engine transaction semantics (property, real SQLite)', () => {
  let store: SqliteApiStore | undefined
  afterEach(() => { store?.close() })

  it('matches the model for any sequence of statements', async () => {
    await fc.assert(fc.asyncProperty(fc.array(cmd, { maxLength: 30 }), async (cmds) => {
      store?.close()
      store = createSqliteApiStore({ path: ':memory:', schema: 'CREATE TABLE t (k INTEGER PRIMARY KEY)' })
      const s = store
      const engine = queryEngine({
        store: s,
        catalog: createCatalog({ schema: () => s.schema(), serverVersion: '14.0' }),
        session: { user: 'u', database: 'd', pid: 1, settings: new Map() }
      })
      const w = new MessageWriter()
      const out: EngineOutput = { w, flush: async () => { w.take() } }
      const model = new Model()
      for (const c of cmds) {
        await engine.simpleQuery(sqlOf(c), out)
        model.apply(c)
        expect(engine.status).toBe(model.status)
        const rows = (s.db.prepare('SELECT k FROM t ORDER BY k').all() as Array<{ k: number }>).map((r) => r.k)
        expect(rows).toEqual([...model.committed].sort((a, b) => a - b))
      }
      engine.end()
    }), { numRuns: 150 })
  })
})

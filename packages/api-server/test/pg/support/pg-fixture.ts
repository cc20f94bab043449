/**
 * A real PG endpoint over the real SQLite test store, on 127.0.0.1 with a free port.
 */
import { createPgServer } from '../../../src/pg/index.ts'
import { createSqliteApiStore } from '../../support/sqlite-store.ts'
import type { PgServerInit } from '../../../src/pg/index.ts'
import type { SqliteApiStore } from '../../support/sqlite-store.ts'

/** The schema every PG test starts from. */
export const TEST_SCHEMA = `
CREATE TABLE todos (
  id INTEGER NOT NULL PRIMARY KEY,
  title TEXT NOT NULL,
  done BOOLEAN NOT NULL DEFAULT 0,
  score REAL,
  data BLOB
);
CREATE TABLE tags (
  todo_id INTEGER NOT NULL REFERENCES todos (id),
  tag VARCHAR(32) NOT NULL,
  PRIMARY KEY (todo_id, tag)
);
CREATE INDEX tags_by_tag ON tags (tag);
`

/** A running endpoint and its store. */
export interface PgFixture {
  store: SqliteApiStore
  host: string
  port: number
  stop(): Promise<void>
}

/** Starts a store (fresh temp file) and a PG endpoint over it. */
export async function startPg (init: Omit<PgServerInit, 'store' | 'addr'> & { schema?: string } = {}): Promise<PgFixture> {
  const { schema, ...rest } = init
  const store = createSqliteApiStore({ schema: schema ?? TEST_SCHEMA })
  const server = createPgServer({ ...rest, store, addr: '127.0.0.1:0' })
  const { host, port } = await server.start()
  return {
    store,
    host,
    port,
    async stop () {
      await server.stop()
      store.close()
    }
  }
}

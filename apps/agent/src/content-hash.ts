import { createHash } from 'node:crypto'

/** The minimal read surface the hash needs (the crdt-store's `read` and `schema`). */
export interface HashableStore {
  schema(): { tables: Array<{ name: string; columns: Array<{ name: string; pk: number }> }> }
  read(sql: string): { rows: IterableIterator<unknown[]>; close(): void }
}

/** A digest of every user table's rows, and how many rows there are. */
export interface ContentHash { hash: string; rows: number; tables: Record<string, number> }

/**
 * Hashes every user table's content, ordered by primary key, so two nodes with the same data get the
 * same hash whatever order changes arrived in.
 */
export function contentHash (store: HashableStore): ContentHash {
  const h = createHash('sha256')
  const tables: Record<string, number> = {}
  let total = 0
  for (const t of [...store.schema().tables].sort((a, b) => a.name < b.name ? -1 : 1)) {
    const cols = t.columns.map(c => `"${c.name.replaceAll('"', '""')}"`)
    const pk = t.columns.filter(c => c.pk > 0).sort((a, b) => a.pk - b.pk).map(c => `"${c.name.replaceAll('"', '""')}"`)
    const order = pk.length > 0 ? pk.join(', ') : cols.join(', ')
    const cursor = store.read(`SELECT ${cols.join(', ')} FROM "${t.name.replaceAll('"', '""')}" ORDER BY ${order}`)
    h.update(`table ${t.name}\n`)
    let n = 0
    try {
      for (const row of cursor.rows) {
        h.update(JSON.stringify(row, (_k, v: unknown) => typeof v === 'bigint' ? `${v}n` : v instanceof Uint8Array ? `x${Buffer.from(v).toString('hex')}` : v))
        h.update('\n')
        n++
      }
    } finally {
      cursor.close()
    }
    tables[t.name] = n
    total += n
  }
  return { hash: h.digest('hex'), rows: total, tables }
}

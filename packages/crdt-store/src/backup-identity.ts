import Database from 'better-sqlite3'
import { cellCols, clockName } from './crr-sql.ts'
import { q } from './table-info.ts'
import type { CrrTable } from './table-info.ts'

/**
 * Rewrites a backup copy so the local actor (ordinal 0) becomes an ordinary peer ordinal: every
 * reference in clocks and bookkeeping moves with it, and ordinal 0 is left free for a new site id.
 */
export function forgetIdentity (path: string, metas: readonly CrrTable[]): void {
  const c = new Database(path)
  try {
    c.transaction(() => {
      const next = (c.prepare('SELECT max(ordinal) + 1 AS n FROM __patina_sites').get() as { n: number }).n
      const move = (col: string): string => `${q(col)} = CASE WHEN ${q(col)} = 0 THEN ${next} ELSE ${q(col)} END`
      c.prepare('UPDATE __patina_sites SET ordinal = ? WHERE ordinal = 0').run(next)
      for (const t of ['__patina_heads', '__patina_gaps', '__patina_partials', '__patina_buffer', '__patina_versions']) {
        c.exec(`UPDATE ${t} SET site = ${next} WHERE site = 0`)
      }
      for (const m of metas) {
        c.exec(`UPDATE ${q(clockName(m.name))} SET ${[move('__ss'), ...m.cols.map(col => move(cellCols(col.name)[1]))].join(', ')}`)
      }
    })()
  } finally {
    c.close()
  }
}


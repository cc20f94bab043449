import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { ConfigError } from './errors.ts'

/** One schema file's text. */
export interface SchemaFile { path: string; sql: string }

/**
 * Reads `[db] schema_paths`: each entry is a `.sql` file or a directory whose `.sql` files are read in
 * name order. A missing path is a ConfigError naming `db.schema_paths`.
 */
export function readSchemaFiles (paths: readonly string[]): SchemaFile[] {
  const out: SchemaFile[] = []
  for (const p of paths) {
    let st
    try {
      st = statSync(p)
    } catch (err) {
      throw new ConfigError('db.schema_paths', `cannot read schema path ${p}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
    }
    const files = st.isDirectory()
      ? readdirSync(p).filter(f => f.endsWith('.sql')).sort().map(f => join(p, f))
      : [p]
    for (const f of files) out.push({ path: f, sql: readFileSync(f, 'utf8') })
  }
  return out
}

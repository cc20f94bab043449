/** SQLite result codes after which a node must not keep running. */
const FATAL_CODES = ['SQLITE_FULL', 'SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_IOERR', 'SQLITE_CANTOPEN', 'SQLITE_READONLY_DBMOVED']

/**
 * True when `err` (or any error in its `cause` chain) carries a fatal SQLite code: disk full, corrupt
 * database, I/O error. Those stop the node with a clear message rather than letting it run on a store
 * that can no longer persist or trust its data.
 */
export function isFatalSqliteError (err: unknown): boolean {
  return fatalCode(err) !== undefined
}

/** The fatal SQLite code found in `err`'s cause chain, if any. */
export function fatalCode (err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 8 && e !== null && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code
    if (typeof code === 'string' && FATAL_CODES.some(c => code === c || code.startsWith(c + '_'))) return code
    e = (e as { cause?: unknown }).cause
  }
  return undefined
}

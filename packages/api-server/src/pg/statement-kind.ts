import { leadingWords } from './sql-lexer.ts'

/** What the session does with a statement before it reaches the store. */
export type StatementKind =
  | 'begin' | 'commit' | 'rollback'
  | 'set' | 'show' | 'reset' | 'discard' | 'deallocate'
  | 'copy'
  | 'unsupported'
  | 'sql'

/** Classification of one statement. */
export interface StatementClass {
  kind: StatementKind
  /** First keyword, upper-cased (`SELECT`, `INSERT`, …). */
  verb: string
  /** For `unsupported`: what is unsupported. */
  what?: string
}

const UNSUPPORTED: Record<string, string> = {
  LISTEN: 'LISTEN',
  UNLISTEN: 'UNLISTEN',
  NOTIFY: 'NOTIFY',
  DECLARE: 'cursors (DECLARE)',
  FETCH: 'cursors (FETCH)',
  MOVE: 'cursors (MOVE)',
  SAVEPOINT: 'SAVEPOINT',
  RELEASE: 'savepoints (RELEASE)',
  PREPARE: 'SQL-level PREPARE (use the extended protocol)',
  EXECUTE: 'SQL-level EXECUTE (use the extended protocol)',
  LOCK: 'LOCK',
  VACUUM: 'VACUUM',
  ATTACH: 'ATTACH',
  DETACH: 'DETACH'
}

/** Classifies a statement by its leading keywords. */
export function classifyStatement (sql: string): StatementClass {
  const w = leadingWords(sql, 3)
  const verb = w[0] ?? ''
  switch (verb) {
    case 'BEGIN': return { kind: 'begin', verb }
    case 'START': return w[1] === 'TRANSACTION' ? { kind: 'begin', verb } : { kind: 'sql', verb }
    case 'COMMIT': case 'END': return { kind: 'commit', verb }
    case 'ROLLBACK': case 'ABORT':
      return w[1] === 'TO' || w[2] === 'TO' ? { kind: 'unsupported', verb, what: 'savepoints (ROLLBACK TO)' } : { kind: 'rollback', verb }
    case 'SET': return { kind: 'set', verb }
    case 'SHOW': return { kind: 'show', verb }
    case 'RESET': return { kind: 'reset', verb }
    case 'DISCARD': return { kind: 'discard', verb }
    case 'DEALLOCATE': return { kind: 'deallocate', verb }
    case 'COPY': return { kind: 'copy', verb }
  }
  const what = UNSUPPORTED[verb]
  if (what !== undefined) return { kind: 'unsupported', verb, what }
  return { kind: 'sql', verb }
}

/** The main verb of a write (skipping a leading `WITH … AS (…)`), for the command tag. */
export function writeVerb (sql: string): string {
  const w = leadingWords(sql, 3)
  const verb = w[0] ?? ''
  if (verb !== 'WITH') {
    if (verb === 'CREATE' || verb === 'DROP' || verb === 'ALTER') {
      const obj = w[1] === 'UNIQUE' || w[1] === 'TEMP' || w[1] === 'TEMPORARY' || w[1] === 'VIRTUAL' ? w[2] : w[1]
      return `${verb} ${obj ?? ''}`.trim()
    }
    return verb
  }
  // After the CTE list, the first top-level INSERT/UPDATE/DELETE/REPLACE/SELECT is the verb.
  let depth = 0
  for (const m of sql.matchAll(/\(|\)|'(?:[^']|'')*'|"(?:[^"]|"")*"|\b(INSERT|UPDATE|DELETE|REPLACE|SELECT)\b/gi)) {
    if (m[0] === '(') depth++
    else if (m[0] === ')') depth--
    else if (depth === 0 && m[1] !== undefined) return m[1].toUpperCase()
  }
  return 'WITH'
}

/** The CommandComplete tag for a write verb and its affected-row count. */
export function writeTag (verb: string, rows: number): string {
  switch (verb) {
    case 'INSERT': case 'REPLACE': return `INSERT 0 ${rows}`
    case 'UPDATE': return `UPDATE ${rows}`
    case 'DELETE': return `DELETE ${rows}`
    case 'SELECT': return `SELECT ${rows}`
    case 'UPSERT': return `INSERT 0 ${rows}`
    default: return verb
  }
}

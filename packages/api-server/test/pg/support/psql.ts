/**
 * Finds the `psql` binary, installing Debian's postgresql-client when it is missing and we are root.
 */
import { execFile, execFileSync } from 'node:child_process'

function which (cmd: string): string | null {
  try {
    return execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim() || null
  } catch {
    return null
  }
}

/** The path of psql, or a reason why it is unavailable. */
export function ensurePsql (): { path: string } | { skip: string } {
  const found = which('psql')
  if (found !== null) return { path: found }
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return { skip: 'psql is not installed and we are not root to apt-get install postgresql-client' }
  try {
    execFileSync('sh', ['-c', 'apt-get install -y postgresql-client || (apt-get update && apt-get install -y postgresql-client)'], { stdio: 'ignore', timeout: 180_000 })
  } catch (err) {
    return { skip: `apt-get install postgresql-client failed: ${(err as Error).message}` }
  }
  const after = which('psql')
  return after !== null ? { path: after } : { skip: 'postgresql-client installed but psql is still not on PATH' }
}

/** Result of one psql run. */
export interface PsqlResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs psql with the given arguments (no ~/.psqlrc, no pager), within a deadline. */
export async function runPsql (psql: string, args: string[], env: Record<string, string> = {}): Promise<PsqlResult> {
  return new Promise((resolve) => {
    execFile(psql, ['-X', '-v', 'ON_ERROR_STOP=0', ...args], {
      env: { ...process.env, PAGER: '', PSQL_PAGER: '', PGCONNECT_TIMEOUT: '5', PGSSLMODE: 'prefer', ...env },
      timeout: 20_000
    }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1
      resolve({ code, stdout, stderr })
    })
  })
}

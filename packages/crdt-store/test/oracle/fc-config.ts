/**
 * fast-check settings shared by the property tests: `FC_SEED` replays a failing run (fast-check
 * prints the seed and path on failure), `FC_RUNS` scales the number of runs.
 */
import fc from 'fast-check'

const seedEnv = process.env.FC_SEED
const runsEnv = process.env.FC_RUNS

/**
 * Parameters for `fc.assert`, honouring `FC_SEED` and scaling `numRuns` by `FC_RUNS` (a factor).
 * Runs and shrinking stop after `timeLimitMs` (default 45 s) so a slow failure still ends inside the
 * test timeout; an interrupted run that found no failure passes, one that did still reports it.
 */
export function fcParams<T> (numRuns: number, extra: fc.Parameters<T> = {}, timeLimitMs = 45_000): fc.Parameters<T> {
  const factor = runsEnv !== undefined && Number(runsEnv) > 0 ? Number(runsEnv) : 1
  const params: fc.Parameters<T> = { numRuns: Math.max(1, Math.round(numRuns * factor)), interruptAfterTimeLimit: timeLimitMs * factor, ...extra }
  if (seedEnv !== undefined && seedEnv !== '') params.seed = Number(seedEnv)
  return params
}

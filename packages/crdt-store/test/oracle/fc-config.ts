/**
 * fast-check settings shared by the property tests: `FC_SEED` (and optionally `FC_PATH`) replays a
 * failing run — fast-check prints both on failure — and `FC_RUNS` scales the number of runs and the
 * time budget, e.g. `FC_RUNS=10` for a soak.
 */
import fc from 'fast-check'

const seedEnv = process.env.FC_SEED
const runsEnv = process.env.FC_RUNS
const pathEnv = process.env.FC_PATH
const factor = runsEnv !== undefined && Number(runsEnv) > 0 ? Number(runsEnv) : 1

/** Default wall-clock budget of one `fc.assert` (runs + shrinking), before scaling. */
export const TIME_LIMIT_MS = 25_000

/** Test timeout for a property test: its fast-check budget plus room for set-up and the last run. */
export const PROP_TIMEOUT = TIME_LIMIT_MS * factor + 60_000

/**
 * Parameters for `fc.assert`, honouring `FC_SEED` and scaling `numRuns` by `FC_RUNS` (a factor).
 * Runs and shrinking stop after `timeLimitMs` (default 25 s, scaled by `FC_RUNS`) so a slow failure still ends inside the
 * test timeout; an interrupted run that found no failure passes, one that did still reports it.
 */
export function fcParams<T> (numRuns: number, extra: fc.Parameters<T> = {}, timeLimitMs = TIME_LIMIT_MS): fc.Parameters<T> {
  const params: fc.Parameters<T> = { numRuns: Math.max(1, Math.round(numRuns * factor)), interruptAfterTimeLimit: timeLimitMs * factor, ...extra }
  if (seedEnv !== undefined && seedEnv !== '') params.seed = Number(seedEnv)
  // With the seed, the printed path replays the shrunk counterexample directly.
  if (pathEnv !== undefined && pathEnv !== '') params.path = pathEnv
  return params
}

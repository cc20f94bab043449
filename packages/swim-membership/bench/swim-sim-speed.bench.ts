// Simulator speed: 1000 members × 60 simulated seconds on the LAN preset (full bootstrap).
// Baseline: the 30 s wall-clock target (a constant, not a measurement).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, ratio, secs } from './stats.ts'

const n = Number(process.env.SIM_N ?? 1000)
const t0 = performance.now()
const s = new Simulation({ seed: 7, size: n, config: lanConfig(), bootstrap: 'full' })
const built = performance.now()
s.run(60_000)
const wall = performance.now() - t0
const extra = { n, simulated_s: 60, steps: s.steps, setup_s: secs(built - t0), converged: s.converged(), trace: s.traceHash(), baseline_kind: 'target (constant)' }
emit({ bench: 'swim-sim-speed', metric: `wall_n${n}_60s`, value: secs(wall), unit: 's', baseline: 30, ratio: ratio(wall, 30_000), ...extra })
emit({ bench: 'swim-sim-speed', metric: 'events_per_s', value: Math.round(s.steps / (wall / 1000)), unit: 'events/s', baseline: null, ratio: null, ...extra })

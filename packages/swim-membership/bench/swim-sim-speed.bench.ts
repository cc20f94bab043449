// Simulator speed: 1000 members × 60 simulated seconds on the LAN preset (full bootstrap).
// Baseline: the 30 s wall-clock target (a constant, not a measurement).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, ratio, secs } from './stats.ts'

const n = Number(process.env.SIM_N ?? 1000)
const gc = (globalThis as { gc?: () => void }).gc
gc?.()
const heap0 = process.memoryUsage().heapUsed
const t0 = performance.now()
const s = new Simulation({ seed: 7, size: n, config: lanConfig(), bootstrap: 'full' })
const built = performance.now()
gc?.()
// every member holds a record of every other: n·(n−1) records (meta of 7–9 bytes each)
const heapPerRecord = Math.round((process.memoryUsage().heapUsed - heap0) / (n * (n - 1)))
s.run(60_000)
const wall = performance.now() - t0
const extra = { n, simulated_s: 60, steps: s.steps, setup_s: secs(built - t0), converged: s.converged(), trace: s.traceHash(), baseline_kind: 'target (constant)' }
emit({ bench: 'swim-sim-speed', metric: `wall_n${n}_60s`, value: secs(wall), unit: 's', baseline: 30, ratio: ratio(wall, 30_000), ...extra })
emit({ bench: 'swim-sim-speed', metric: 'heap_per_member_record', value: heapPerRecord, unit: 'B', baseline: 1024, ratio: ratio(heapPerRecord, 1024), ...extra, baseline_kind: 'target ≤ 1 KB per known member (constant)' })
emit({ bench: 'swim-sim-speed', metric: 'events_per_s', value: Math.round(s.steps / (wall / 1000)), unit: 'events/s', baseline: null, ratio: null, ...extra })

// False positives with one CPU-starved member (N=32, LAN preset, 10 simulated minutes), Lifeguard
// on vs off, same seeds. The starved member handles every inbound packet and fires every timer late
// by U(0, D): D = 2×probeTimeout (the reference goal's model) and D = 2×probeInterval (2 s stalls,
// a harsher load). Counted: healthy members declared down, the starved member declared down, and
// suspicions raised by the starved member's own failed probes (summed over 3 seeds).
// Ratio: suspicions with Lifeguard off / on (higher is better; target ≥ 50).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, secs } from './stats.ts'

const n = 32
const seeds = [1, 2, 3]
const duration = 600_000

interface Counts { starvedSuspicions: number, allSuspicions: number, healthyDown: number, starvedDown: number }

function run (lifeguard: boolean, delay: number): Counts {
  const c: Counts = { starvedSuspicions: 0, allSuspicions: 0, healthyDown: 0, starvedDown: 0 }
  for (const seed of seeds) {
    const s = new Simulation({
      seed, size: n, config: { ...lanConfig(), lifeguard }, bootstrap: 'full',
      onNotify: (i, note) => {
        if (note.type === 'member-suspect' && note.from === `n${i}`) {
          c.allSuspicions++
          if (i === 0) c.starvedSuspicions++
        }
        if (note.type === 'member-down') {
          if (note.member.id === 'n0') c.starvedDown++
          else c.healthyDown++
        }
      }
    })
    s.nodes[0]!.starve = delay
    s.run(duration)
  }
  return c
}

const started = performance.now()
for (const [label, delay] of [['2x_probe_timeout', 1000], ['2x_probe_interval', 2000]] as const) {
  const on = run(true, delay)
  const off = run(false, delay)
  const extra = { n, delay_ms: delay, simulated_s: duration / 1000, seeds: seeds.length, lifeguard_on: on, lifeguard_off: off, wall_s: secs(performance.now() - started) }
  emit({ bench: 'swim-false-positives', metric: `healthy_declared_down_lifeguard_on_${label}`, value: on.healthyDown, unit: 'count', baseline: off.healthyDown, ratio: null, ...extra, baseline_kind: 'same run, Lifeguard off' })
  emit({ bench: 'swim-false-positives', metric: `starved_declared_down_lifeguard_on_${label}`, value: on.starvedDown, unit: 'count', baseline: off.starvedDown, ratio: null, ...extra, baseline_kind: 'same run, Lifeguard off' })
  const r = on.starvedSuspicions === 0 ? (off.starvedSuspicions === 0 ? null : Infinity) : Math.round(off.starvedSuspicions / on.starvedSuspicions * 10) / 10
  emit({ bench: 'swim-false-positives', metric: `suspicions_by_starved_lifeguard_on_${label}`, value: on.starvedSuspicions, unit: 'count', baseline: off.starvedSuspicions, ratio: r === Infinity ? null : r, ratio_note: r === Infinity ? 'off/on = inf (0 with Lifeguard)' : 'off/on', ...extra, baseline_kind: 'same run, Lifeguard off' })
}

// Crash → dead: time until the first member declares the crashed member down, and until every
// survivor knows, on the deterministic simulator with the LAN preset. Baseline: the memberlist
// LAN figures modelled in the reference notes (first dead p50/p99; dissemination adds ≤ 1 s at N=100).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, percentile, ratio, secs } from './stats.ts'

const model: Record<number, { p50: number, p99: number, all: number }> = {
  10: { p50: 5700, p99: 8600, all: 8600 + 593 },
  100: { p50: 9700, p99: 13500, all: 13500 + 999 },
  1000: { p50: 13700, p99: 17900, all: 17900 + 1218 }
}

interface Plan { n: number, sims: number, victimsPerSim: number, spacing: number }
const plans: Plan[] = [
  { n: 10, sims: 300, victimsPerSim: 1, spacing: 0 },
  { n: 100, sims: 20, victimsPerSim: 5, spacing: 10_000 },
  { n: 1000, sims: 2, victimsPerSim: 10, spacing: 4_000 }
]

for (const plan of plans) {
  const firsts: number[] = []
  const alls: number[] = []
  const started = performance.now()
  let missed = 0
  for (let k = 0; k < plan.sims; k++) {
    const seed = 1000 * plan.n + k
    const crashedAt = new Map<string, number>()
    const first = new Map<string, number>()
    const seen = new Map<string, Set<number>>()
    const allAt = new Map<string, number>()
    const s = new Simulation({
      seed, size: plan.n, config: lanConfig(), bootstrap: 'full',
      onNotify: (i, n, at) => {
        if (n.type !== 'member-down') return
        const t0 = crashedAt.get(n.member.id)
        if (t0 === undefined) return
        if (!first.has(n.member.id)) first.set(n.member.id, at - t0)
        let set = seen.get(n.member.id)
        if (set === undefined) seen.set(n.member.id, set = new Set())
        set.add(i)
        if (!allAt.has(n.member.id)) {
          const up = s.upNodes()
          if (up.every(j => set.has(j))) allAt.set(n.member.id, at - t0)
        }
      }
    })
    s.run(5000 + s.random().next() * 1000)
    const victims: number[] = []
    while (victims.length < plan.victimsPerSim) {
      const v = s.random().int(plan.n)
      if (!victims.includes(v)) victims.push(v)
    }
    for (const v of victims) {
      s.crash(v)
      crashedAt.set(`n${v}`, s.now)
      if (plan.spacing > 0) s.run(plan.spacing)
    }
    // run until every victim is known down by every survivor (or a cap)
    const until = s.now + 120_000
    while (s.now < until && allAt.size < victims.length) s.run(250)
    for (const v of victims) {
      const id = `n${v}`
      const f = first.get(id)
      const a = allAt.get(id)
      if (f === undefined || a === undefined) { missed++; continue }
      firsts.push(f)
      alls.push(a)
    }
  }
  const m = model[plan.n]!
  const p50 = percentile(firsts, 50)
  const p99 = percentile(firsts, 99)
  const all99 = percentile(alls, 99)
  const extra = { n: plan.n, samples: firsts.length, missed, wall_s: secs(performance.now() - started), baseline_kind: 'memberlist LAN model (reference notes §2.3)' }
  emit({ bench: 'swim-detect', metric: `first_dead_p50_n${plan.n}`, value: secs(p50), unit: 's', baseline: secs(m.p50), ratio: ratio(p50, m.p50), ...extra })
  emit({ bench: 'swim-detect', metric: `first_dead_p99_n${plan.n}`, value: secs(p99), unit: 's', baseline: secs(m.p99), ratio: ratio(p99, m.p99), ...extra })
  emit({ bench: 'swim-detect', metric: `all_know_p50_n${plan.n}`, value: secs(percentile(alls, 50)), unit: 's', baseline: null, ratio: null, ...extra })
  emit({ bench: 'swim-detect', metric: `all_know_p99_n${plan.n}`, value: secs(all99), unit: 's', baseline: secs(m.all), ratio: ratio(all99, m.all), ...extra })
  emit({ bench: 'swim-detect', metric: `all_after_first_p99_n${plan.n}`, value: secs(percentile(alls.map((a, i) => a - firsts[i]!), 99)), unit: 's', baseline: secs(m.all - m.p99), ratio: ratio(percentile(alls.map((a, i) => a - firsts[i]!), 99), m.all - m.p99), ...extra })
}

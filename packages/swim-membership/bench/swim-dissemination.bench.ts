// One update reaching every member: a member changes its metadata (incarnation+1, gossiped) and we
// time until every other member has applied it. LAN preset, deterministic simulator, 0.2–2 ms
// latency. Baseline: the memberlist LAN gossip model p99 from the reference notes (§2.3).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, percentile, ratio, secs } from './stats.ts'

const model: Record<number, number> = { 100: 999, 1000: 1218 }
const plans = [{ n: 100, updates: 100, loss: 0 }, { n: 1000, updates: 25, loss: 0 }, { n: 100, updates: 100, loss: 0.05 }]

for (const plan of plans) {
  const started = performance.now()
  const times: number[] = []
  let incomplete = 0
  let pending: { id: string, at: number, seen: Set<number> } | undefined
  const s = new Simulation({
    seed: 42 + plan.n, size: plan.n, config: lanConfig(), bootstrap: 'full', network: { loss: plan.loss },
    onNotify: (i, n, at) => {
      if (pending === undefined || n.type !== 'member-updated' || n.member.id !== pending.id) return
      pending.seen.add(i)
      if (pending.seen.size === plan.n - 1) {
        times.push(at - pending.at)
        pending = undefined
      }
    }
  })
  s.run(5000)
  for (let k = 0; k < plan.updates; k++) {
    const who = s.random().int(plan.n)
    const node = s.nodes[who]!
    pending = { id: node.id, at: s.now, seen: new Set() }
    node.core.updateMeta(new TextEncoder().encode(`v${k}`), node.runtime)
    s.runUntilTrue(() => pending === undefined, 10_000, 50)
    if (pending !== undefined) incomplete++
    pending = undefined
    s.run(2000)
  }
  const p50 = percentile(times, 50)
  const p99 = percentile(times, 99)
  const base = plan.loss === 0 ? model[plan.n]! : null
  const suffix = plan.loss > 0 ? `_loss${plan.loss * 100}pct` : ''
  const extra = { n: plan.n, loss: plan.loss, samples: times.length, incomplete, wall_s: secs(performance.now() - started), baseline_kind: 'memberlist LAN gossip model p99 (reference notes §2.3)' }
  emit({ bench: 'swim-dissemination', metric: `reach_all_p50_n${plan.n}${suffix}`, value: secs(p50), unit: 's', baseline: null, ratio: null, ...extra })
  emit({ bench: 'swim-dissemination', metric: `reach_all_p99_n${plan.n}${suffix}`, value: secs(p99), unit: 's', baseline: base === null ? null : secs(base), ratio: ratio(p99, base), ...extra })
}

// Steady-state traffic per member in a stable N=100 cluster (LAN preset, no churn): bytes and
// datagrams per second, each way, over 120 simulated seconds after a 40 s warm-up (which covers
// the first digest exchanges). Baseline: the 200 B/s target (constant); memberlist is estimated
// at ≈130 B/s each way in the reference notes (§2.4).
import { lanConfig } from '../src/config.ts'
import { Simulation } from '../src/sim/simulation.ts'
import { emit, ratio } from './stats.ts'

const n = 100
const window = 120_000
const s = new Simulation({ seed: 9, size: n, config: lanConfig(), bootstrap: 'full' })
s.run(40_000)
const before = s.nodes.map(x => ({ bs: x.bytesSent, br: x.bytesReceived, ps: x.packetsSent, pr: x.packetsReceived }))
s.run(window)
const per = (f: (x: typeof s.nodes[number], b: typeof before[number]) => number): number[] => s.nodes.map((x, i) => f(x, before[i]!) / (window / 1000))
const sent = per((x, b) => x.bytesSent - b.bs)
const recv = per((x, b) => x.bytesReceived - b.br)
const psent = per((x, b) => x.packetsSent - b.ps)
const mean = (a: number[]): number => Math.round(a.reduce((x, y) => x + y, 0) / a.length * 10) / 10
const max = (a: number[]): number => Math.round(Math.max(...a) * 10) / 10
const extra = { n, window_s: window / 1000, converged: s.converged(), baseline_kind: 'target 200 B/s (constant)' }
emit({ bench: 'swim-bandwidth', metric: 'bytes_sent_per_member', value: mean(sent), unit: 'B/s', baseline: 200, ratio: ratio(mean(sent), 200), max: max(sent), ...extra })
emit({ bench: 'swim-bandwidth', metric: 'bytes_received_per_member', value: mean(recv), unit: 'B/s', baseline: 200, ratio: ratio(mean(recv), 200), max: max(recv), ...extra })
emit({ bench: 'swim-bandwidth', metric: 'datagrams_sent_per_member', value: mean(psent), unit: 'packets/s', baseline: 2, ratio: ratio(mean(psent), 2), max: max(psent), ...extra, baseline_kind: 'target 2 packets/s (constant)' })

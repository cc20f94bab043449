import { describe, expect, it } from 'vitest'
import { lanConfig } from '../../src/config.ts'
import type { SwimConfig } from '../../src/config.ts'
import { Simulation } from '../../src/sim/simulation.ts'
import type { SimulationInit } from '../../src/sim/simulation.ts'
import type { Notification } from '../../src/types.ts'

/** Seeds come from SIM_SEED when set (to replay a failure), else the given default. */
function seedOr (seed: number): number {
  const env = process.env.SIM_SEED
  return env === undefined || env === '' ? seed : Number(env)
}

/** Runs a simulation scenario; any failure is rethrown with the seed that replays it. */
function scenario (seed: number, fn: (seed: number) => void): void {
  const s = seedOr(seed)
  try {
    fn(s)
  } catch (err) {
    throw new Error(`simulation failed with SIM_SEED=${s}: ${(err as Error).message}`, { cause: err })
  }
}

function sim (seed: number, size: number, over: Partial<SimulationInit> = {}, config: Partial<SwimConfig> = {}): Simulation {
  return new Simulation({ seed, size, config: { ...lanConfig(), ...config }, bootstrap: 'full', ...over })
}

function allSee (s: Simulation, subject: number, state: string): boolean {
  return s.upNodes().filter(i => i !== subject).every(i => s.stateOf(i, subject) === state)
}

describe('simulation', () => {
  it('a join of 100 members converges (everyone announces to one seed)', () => {
    scenario(11, (seed) => {
      const s = sim(seed, 100, { bootstrap: 'join', startSpread: 2000 })
      const took = s.runUntilTrue(() => s.upNodes().length === 100 && s.converged(), 30_000, 250)
      expect(took, 'join did not converge in 30 s').toBeDefined()
      expect(s.packetErrors).toBe(0)
    })
  })

  it('is deterministic: the same seed gives the same trace, another seed a different one', () => {
    const run = (seed: number): string => {
      const s = sim(seed, 20, { network: { loss: 0.05, duplicate: 0.02 } })
      s.run(5000)
      s.crash(3)
      s.run(20_000)
      return s.traceHash()
    }
    expect(run(5)).toBe(run(5))
    expect(run(5)).not.toBe(run(6))
  })

  it('a crash is detected and known by all', () => {
    scenario(21, (seed) => {
      const s = sim(seed, 50)
      s.run(3000)
      s.crash(17)
      const took = s.runUntilTrue(() => allSee(s, 17, 'down'), 60_000, 100)
      expect(took, 'crash not known by all within 60 s').toBeDefined()
      // LAN, N=50: suspicion max is 6 × 6.8 s; with confirmations it lands far below
      expect(took!).toBeLessThan(20_000)
      s.run(10_000)
      expect(s.converged()).toBe(true)
    })
  })

  it('a false suspicion is refuted: the member is never declared down', () => {
    scenario(31, (seed) => {
      const downs: number[] = []
      const suspects: number[] = []
      const s = sim(seed, 20, {
        onNotify: (_node, n: Notification) => {
          if (n.type === 'member-down' && n.member.id === 'n4') downs.push(1)
          if (n.type === 'member-suspect' && n.member.id === 'n4') suspects.push(1)
        }
      })
      s.run(3000)
      // cut n4 off long enough to be suspected, shorter than any suspicion timeout
      s.partition([[4], [...Array(20).keys()].filter(i => i !== 4)])
      s.runUntilTrue(() => suspects.length > 0, 10_000, 50)
      expect(suspects.length).toBeGreaterThan(0)
      s.heal()
      const took = s.runUntilTrue(() => allSee(s, 4, 'alive'), 10_000, 50)
      expect(took, 'suspicion not refuted').toBeDefined()
      expect(downs).toHaveLength(0)
      expect(s.nodes[4]!.core.self().incarnation).toBeGreaterThan(0)
    })
  })

  it('a 30/20 partition heals to one view', () => {
    scenario(41, (seed) => {
      const s = sim(seed, 50)
      s.run(3000)
      const a = [...Array(30).keys()]
      const b = [...Array(20).keys()].map(i => i + 30)
      s.partition([a, b])
      // longer than the suspicion max, so each side declares the other down
      s.runUntilTrue(() => allSee(s, 45, 'down') && allSee(s, 5, 'down') && s.stateOf(45, 5) === 'down', 120_000, 500)
      expect(s.stateOf(0, 45)).toBe('down')
      expect(s.stateOf(45, 0)).toBe('down')
      s.heal()
      // bound: one announce-down interval (jittered up to 1.5×) plus dissemination
      const took = s.runUntilTrue(() => s.converged(), 50_000, 250)
      expect(took, 'partition did not heal').toBeDefined()
    })
  })

  it('a rolling restart of every member leaves exactly N live members and no ghosts', () => {
    scenario(51, (seed) => {
      const n = 30
      const s = sim(seed, n)
      s.run(3000)
      for (let i = 0; i < n; i++) {
        s.restart(i)
        s.run(1500)
      }
      const took = s.runUntilTrue(() => s.converged(), 60_000, 250)
      expect(took, 'no single view after the rolling restart').toBeDefined()
      for (const i of s.upNodes()) {
        expect(s.nodes[i]!.core.members()).toHaveLength(n - 1)
        expect(s.liveSeenBy(i)).toBe(n)
      }
    })
  })

  it('restarting members under new ids on the same addresses leaves no ghosts', () => {
    scenario(55, (seed) => {
      const n = 20
      const s = sim(seed, n)
      s.run(3000)
      for (let i = 0; i < n; i += 2) {
        s.restart(i, undefined, { newId: true })
        s.run(700)
      }
      const took = s.runUntilTrue(() => s.converged(), 60_000, 250)
      expect(took, 'no single view after restarts under new ids').toBeDefined()
      for (const i of s.upNodes()) expect(s.liveSeenBy(i)).toBe(n)
    })
  })

  it('converges with 5% loss, duplication and reordering', () => {
    scenario(61, (seed) => {
      const s = sim(seed, 60, { bootstrap: 'join', startSpread: 2000, network: { loss: 0.05, duplicate: 0.05, latency: { min: 0.5, max: 30 } } })
      const took = s.runUntilTrue(() => s.upNodes().length === 60 && s.converged(), 40_000, 250)
      expect(took, 'no convergence under loss').toBeDefined()
      s.crash(7)
      expect(s.runUntilTrue(() => allSee(s, 7, 'down'), 60_000, 250)).toBeDefined()
    })
  })

  it('a graceful leave is seen as left by all, not down', () => {
    scenario(71, (seed) => {
      const downs: string[] = []
      const s = sim(seed, 30, { onNotify: (_i, n) => { if (n.type === 'member-down') downs.push(n.member.id) } })
      s.run(3000)
      s.leave(9)
      const took = s.runUntilTrue(() => allSee(s, 9, 'left'), 5000, 50)
      expect(took, 'leave not seen by all').toBeDefined()
      s.crash(9)
      s.run(30_000)
      expect(allSee(s, 9, 'left')).toBe(true)
      expect(downs).not.toContain('n9')
    })
  })

  it('a graceful leave under 5% loss is still seen as left by all', () => {
    scenario(75, (seed) => {
      const s = sim(seed, 40, { network: { loss: 0.05 } })
      s.run(3000)
      s.leave(11)
      const took = s.runUntilTrue(() => allSee(s, 11, 'left'), 5000, 50)
      expect(took, 'leave not seen by all under loss').toBeDefined()
    })
  })

  it('a member that can send but not receive gets no healthy member declared down elsewhere', () => {
    scenario(91, (seed) => {
      const wrongly: string[] = []
      const s = sim(seed, 20, {
        onNotify: (i, n) => { if (n.type === 'member-down' && i !== 5 && n.member.id !== 'n5') wrongly.push(`${i}:${n.member.id}`) }
      })
      s.run(3000)
      s.setDeaf(5, true)
      s.run(90_000)
      expect(wrongly).toEqual([])
      expect(allSee(s, 5, 'down')).toBe(true)
      s.setDeaf(5, false)
      expect(s.runUntilTrue(() => s.converged(), 60_000, 250), 'no recovery after the link came back').toBeDefined()
    })
  })

  it('with Lifeguard, a CPU-starved member (stalls up to 2 s) gets nobody declared down', () => {
    scenario(81, (seed) => {
      const healthyDowns: string[] = []
      const s = sim(seed, 16, { onNotify: (_i, n) => { if (n.type === 'member-down') healthyDowns.push(n.member.id) } })
      s.nodes[3]!.starve = 2000
      s.run(120_000)
      expect(healthyDowns).toHaveLength(0)
      expect(s.converged()).toBe(true)
    })
  })
})

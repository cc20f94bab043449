import { afterEach, describe, expect, it, vi } from 'vitest'
import { catchUpGate, openGate } from '../src/catch-up.ts'
import type { CatchUpPeers } from '../src/catch-up.ts'

/** Peers whose sync rounds answer from a script; membership changes are fired by hand. */
function scriptedPeers (alive: boolean, rounds: Array<number | Error>): CatchUpPeers & { calls: number, fire: () => void, setAlive: (v: boolean) => void } {
  const listeners = new Set<() => void>()
  const p = {
    calls: 0,
    anyAlive: () => alive,
    syncRound: async () => {
      p.calls++
      const r = rounds.shift() ?? 0
      if (r instanceof Error) throw r
      return r
    },
    onMembership: (fn: () => void) => { listeners.add(fn); return () => { listeners.delete(fn) } },
    fire: () => { for (const fn of [...listeners]) fn() },
    setAlive: (v: boolean) => { alive = v }
  }
  return p
}

afterEach(() => { vi.useRealTimers() })

describe('catch-up gate', () => {
  it('opens once a round completes with a peer, retrying rounds that reached none or failed', async () => {
    vi.useFakeTimers()
    const peers = scriptedPeers(true, [0, new Error('dial failed'), 2])
    const gate = catchUpGate({ peers, timeoutMs: 10_000 })
    let done = false
    void gate.wait().then(() => { done = true })
    await vi.advanceTimersByTimeAsync(100)
    expect(done).toBe(false)
    await vi.advanceTimersByTimeAsync(1000)
    expect(done).toBe(true)
    expect(gate.open).toBe(true)
    expect(peers.calls).toBe(3)
  })

  it('with peersNeeded, opens only on a round that completed with that many peers', async () => {
    vi.useFakeTimers()
    const peers = scriptedPeers(true, [1, 1, 2])
    const gate = catchUpGate({ peers, timeoutMs: 10_000, peersNeeded: 2 })
    await vi.advanceTimersByTimeAsync(300)
    expect(gate.open).toBe(false)
    await vi.advanceTimersByTimeAsync(500)
    expect(gate.open).toBe(true)
    expect(peers.calls).toBe(3)
  })

  it('waits for a member to come alive, then catches up', async () => {
    vi.useFakeTimers()
    const peers = scriptedPeers(false, [1])
    const gate = catchUpGate({ peers, timeoutMs: 10_000 })
    await vi.advanceTimersByTimeAsync(2000)
    expect(peers.calls).toBe(0)
    expect(gate.open).toBe(false)
    peers.setAlive(true)
    peers.fire()
    await vi.advanceTimersByTimeAsync(0)
    expect(gate.open).toBe(true)
  })

  it('gives up at the timeout and says so', async () => {
    vi.useFakeTimers()
    const warn = vi.fn()
    const gate = catchUpGate({ peers: scriptedPeers(false, []), timeoutMs: 5000, logger: { info: vi.fn(), warn } })
    await vi.advanceTimersByTimeAsync(4999)
    expect(gate.open).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    expect(gate.open).toBe(true)
    expect(warn).toHaveBeenCalledTimes(1)
  })

  it('a waiting write can be aborted; close opens the gate', async () => {
    vi.useFakeTimers()
    const gate = catchUpGate({ peers: scriptedPeers(false, []), timeoutMs: 60_000 })
    const ac = new AbortController()
    const waiting = gate.wait(ac.signal)
    ac.abort(new Error('client went away'))
    await expect(waiting).rejects.toThrow('client went away')
    gate.close()
    await expect(gate.wait()).resolves.toBeUndefined()
    expect(openGate().open).toBe(true)
  })
})

import type { ActorSummary } from '@patina/crdt-store'

/**
 * When each actor's versions were first announced by a peer's sync summary. Anti-entropy is there to
 * repair what broadcast lost, not to race it: under load a version announced a moment ago is almost
 * always still on its way by broadcast, and fetching it by sync as well costs a read, an encode and
 * a duplicate apply. So sync asks only for versions some peer already announced at least `graceMs`
 * ago; anything broadcast really lost is fetched by the first round at least `graceMs` after its
 * announcement. An actor seen for the first time (e.g. every actor, right after this node starts)
 * is asked for in full at once: nothing of it can be in flight to a node that just came up. Time is
 * an input.
 */
export class AgedHeads {
  readonly graceMs: number
  // per actor (hex): the best head seen at each observation, oldest first
  readonly #seen = new Map<string, Array<{ at: number; head: number }>>()

  constructor (graceMs: number) {
    this.graceMs = graceMs
  }

  /** Records that some peer announced `head` for `actor` at `now`. */
  observe (actor: string, head: number, now: number): void {
    let list = this.#seen.get(actor)
    if (list === undefined) this.#seen.set(actor, list = [])
    const last = list[list.length - 1]
    if (last !== undefined && last.head >= head) return
    list.push({ at: now, head })
  }

  /**
   * The highest head of `actor` announced at least `graceMs` before `now`; its whole head when `now`
   * is when it was first seen; else 0.
   */
  aged (actor: string, now: number): number {
    const list = this.#seen.get(actor)
    if (list === undefined) return 0
    let i = -1
    while (i + 1 < list.length && list[i + 1]!.at <= now - this.graceMs) i++
    if (i < 0) return list.length === 1 && list[0]!.at === now ? list[0]!.head : 0
    // older observations can no longer matter
    if (i > 0) list.splice(0, i)
    return list[0]!.head
  }
}

/** `a` without the versions above `head` (its gaps and partial versions clipped to match). */
export function clipSummary (a: ActorSummary, head: number): ActorSummary {
  if (head >= a.head) return a
  return {
    actor: a.actor,
    head,
    gaps: a.gaps.filter(g => g[0] <= head).map(g => [g[0], Math.min(g[1], head)] as [number, number]),
    partials: a.partials.filter(p => p.version <= head)
  }
}

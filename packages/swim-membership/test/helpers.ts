import { encodePacket, decodePacket } from '../src/codec.ts'
import type { Message, Packet, Update } from '../src/codec.ts'
import { lanConfig } from '../src/config.ts'
import type { SwimConfig } from '../src/config.ts'
import { AccumulatingRuntime } from '../src/runtime.ts'
import { seededRandom } from '../src/sim/random.ts'
import { SwimCore } from '../src/swim-core.ts'
import type { MemberInfo } from '../src/types.ts'

/** A manual clock for unit tests. */
export class ManualClock {
  t = 1000
  now (): number { return this.t }
  advance (ms: number): void { this.t += ms }
}

export const enc = new TextEncoder()

/** A core named `me` at `addr-me` with a fresh runtime and manual clock. */
export function makeCore (config: Partial<SwimConfig> = {}, id = 'me', generation = 1): { core: SwimCore, rt: AccumulatingRuntime, clock: ManualClock } {
  const clock = new ManualClock()
  const core = new SwimCore({ identity: { id, addr: `addr-${id}`, meta: enc.encode(`meta-${id}`) }, config: { ...lanConfig(), ...config }, clock, random: seededRandom(42), generation })
  const rt = new AccumulatingRuntime()
  return { core, rt, clock }
}

/** A member record as peers would gossip it. */
export function member (id: string, over: Partial<MemberInfo> = {}): MemberInfo {
  return { id, addr: `addr-${id}`, meta: enc.encode(`meta-${id}`), incarnation: 0, generation: 1, state: 'alive', ...over }
}

/** Encodes a packet from `from` (a peer with generation 1, incarnation 0) to `to`. */
export function packet (from: string, message: Message, updates: Update[] = [], over: Partial<Packet> = {}): Uint8Array {
  return encodePacket({
    clusterId: 0,
    sender: { id: from, addr: `addr-${from}`, generation: 1, incarnation: 0, known: 0 },
    to: 'me',
    message,
    updates,
    broadcasts: [],
    ...over
  })
}

/** An update for a member. */
export function update (id: string, over: Partial<Update> = {}): Update {
  return { id, addr: `addr-${id}`, meta: enc.encode(`meta-${id}`), generation: 1, incarnation: 0, state: 'alive', ...over }
}

/** Decoded sends of a runtime, cleared. */
export function sends (rt: AccumulatingRuntime): Array<{ addr: string, p: Packet }> {
  return rt.takeSends().map(s => ({ addr: s.addr, p: decodePacket(s.bytes) }))
}

/** Adds alive members by bootstrap. */
export function withMembers (core: SwimCore, rt: AccumulatingRuntime, ids: string[]): void {
  core.applyMembers(ids.map(id => member(id)), rt)
}

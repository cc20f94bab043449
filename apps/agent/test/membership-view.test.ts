import { describe, it, expect } from 'vitest'
import { gossipPeers } from '../src/adapters/membership-view.ts'
import type { SwimMember } from '../src/adapters/membership-view.ts'
import { encodeMemberMeta } from '../src/adapters/member-meta.ts'
import { PartitionFilter } from '../src/adapters/partition.ts'

const member = (id: string, state: SwimMember['state'], clusterId = 0): SwimMember =>
  ({ id, addr: `/ip4/127.0.0.1/udp/${id.length + 9000}/quic-v1`, meta: encodeMemberMeta({ actor: id, peerId: `peer-${id}`, clusterId }), incarnation: 1, state })

describe('gossip peers from the membership view', () => {
  it('keeps alive and suspect members, drops down, left, other clusters, self and partitioned peers', () => {
    const members = [member('self', 'alive'), member('a', 'alive'), member('bb', 'suspect'), member('ccc', 'down'), member('dddd', 'left'), member('eeeee', 'alive', 7), member('ffffff', 'alive')]
    const partition = new PartitionFilter()
    const all = gossipPeers(members, 'self', 0, partition).map(p => p.peerId)
    // a suspect that refutes goes back to alive without any membership event: it must not have
    // been dropped meanwhile, or nothing would put it back
    expect(all).toEqual(['peer-a', 'peer-bb', 'peer-ffffff'])
    partition.block(['ffffff'])
    expect(gossipPeers(members, 'self', 0, partition).map(p => p.peerId)).toEqual(['peer-a', 'peer-bb'])
  })
})

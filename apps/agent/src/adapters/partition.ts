/**
 * The partition test hook: a set of blocked peers (by actor hex or libp2p peer id). The agent drops
 * SWIM packets to and from them, keeps them out of the gossip member set and ignores their payloads,
 * which is what a network partition looks like from this node. Used by the cluster harness, where
 * network namespaces would need root.
 */
export class PartitionFilter {
  private readonly blocked = new Set<string>()
  /** actor hex → peer id, learned from membership metadata. */
  private readonly peerOfActor = new Map<string, string>()
  /** transport address (without `/p2p/`) → peer id. */
  private readonly peerOfAddr = new Map<string, string>()

  /** Records the peer id an actor uses, so blocking either name blocks both. */
  learn (actor: string, peerId: string, addr?: string): void {
    this.peerOfActor.set(actor, peerId)
    if (addr !== undefined) this.peerOfAddr.set(baseAddr(addr), peerId)
  }

  /** Blocks traffic with the given peers (actor hex or peer ids). */
  block (ids: readonly string[]): void {
    for (const id of ids) {
      this.blocked.add(id)
      const peer = this.peerOfActor.get(id)
      if (peer !== undefined) this.blocked.add(peer)
    }
  }

  /** Removes every block. */
  heal (): void { this.blocked.clear() }

  /** Blocked ids. */
  list (): string[] { return [...this.blocked] }

  get active (): boolean { return this.blocked.size > 0 }

  /** True when an actor or peer id is blocked. */
  isBlocked (id: string | undefined): boolean {
    if (id === undefined || this.blocked.size === 0) return false
    if (this.blocked.has(id)) return true
    const peer = this.peerOfActor.get(id)
    return peer !== undefined && this.blocked.has(peer)
  }

  /** True when a multiaddr's `/p2p/<id>` (or a bare peer id) is blocked. */
  isAddrBlocked (addr: string): boolean {
    if (this.blocked.size === 0) return false
    const i = addr.lastIndexOf('/p2p/')
    if (i >= 0) return this.isBlocked(addr.slice(i + 5))
    return this.isBlocked(addr) || this.isBlocked(this.peerOfAddr.get(addr))
  }
}

function baseAddr (addr: string): string {
  const i = addr.lastIndexOf('/p2p/')
  return i >= 0 ? addr.slice(0, i) : addr
}

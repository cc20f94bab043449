import type { Multiaddr } from '@multiformats/multiaddr'
import { OutboundLink } from './link.ts'
import type { NodeContext } from './node-context.ts'

/** Options of a {@link LinkPool}. */
export interface LinkPoolInit {
  protocol: string
  /** Bytes buffered per link before frames are dropped. */
  maxBufferBytes: number
  /** Dial + handshake limit of each link (default: the node's `dialTimeoutMs`). */
  dialTimeoutMs?: number
  /** After a failed dial, the key gets no new link for this long (no dial storm). Default 1000 ms. */
  redialBackoffMs?: number
  /** Called once a link's handshake completed. */
  onOpen?: (key: string, link: OutboundLink) => void
  /** Called when a link closed for good, with what it still held (see {@link OutboundLink}). */
  onClose?: (key: string, err: Error | undefined, droppedItems: number, droppedTags: unknown[]) => void
}

// failure timestamps kept at most (one per unreachable key); past it they are forgotten at once
const MAX_FAILURES = 10_000

/**
 * One outbound link per key (a peer id or an address) for one protocol, with a redial backoff
 * after failures: shared by broadcast and the SWIM transport.
 */
export class LinkPool {
  readonly #ctx: NodeContext
  readonly #init: LinkPoolInit
  readonly #links = new Map<string, OutboundLink>()
  readonly #failedAt = new Map<string, number>()

  constructor (ctx: NodeContext, init: LinkPoolInit) {
    this.#ctx = ctx
    this.#init = init
  }

  /** Open (or connecting) links. */
  get size (): number {
    return this.#links.size
  }

  /** The live link of `key`, if any (never dials). */
  peek (key: string): OutboundLink | undefined {
    return this.#links.get(key)
  }

  /** Every live link with its key. */
  entries (): IterableIterator<[string, OutboundLink]> {
    return this.#links.entries()
  }

  /**
   * The link of `key`, dialing `target()` when there is none; undefined while the key is in its
   * redial backoff or when there is no target.
   */
  get (key: string, target: () => Multiaddr | undefined): OutboundLink | undefined {
    const existing = this.#links.get(key)
    if (existing != null && existing.state !== 'closed') return existing
    const failed = this.#failedAt.get(key)
    if (failed != null && performance.now() - failed < (this.#init.redialBackoffMs ?? 1000)) return undefined
    const addr = target()
    if (addr == null) return undefined
    const link = new OutboundLink(this.#ctx, {
      protocol: this.#init.protocol,
      target: addr,
      maxBufferBytes: this.#init.maxBufferBytes,
      ...(this.#init.dialTimeoutMs != null ? { dialTimeoutMs: this.#init.dialTimeoutMs } : {}),
      onOpen: (l) => {
        this.#failedAt.delete(key)
        this.#init.onOpen?.(key, l)
      },
      onClose: (l, err, dropped, tags) => {
        if (this.#links.get(key) === l) this.#links.delete(key)
        if (err != null) {
          if (this.#failedAt.size >= MAX_FAILURES) this.#failedAt.clear()
          this.#failedAt.set(key, performance.now())
        }
        this.#init.onClose?.(key, err, dropped, tags)
      }
    })
    this.#links.set(key, link)
    return link
  }

  /** Forget the failures of keys for which `keep` is false. */
  forgetFailures (keep: (key: string) => boolean): void {
    for (const key of [...this.#failedAt.keys()]) if (!keep(key)) this.#failedAt.delete(key)
  }

  /** Close every link. */
  closeAll (): void {
    for (const link of [...this.#links.values()]) link.close()
    this.#links.clear()
  }
}

/** What a node tells the cluster about itself inside its SWIM identity's metadata. */
export interface MemberMeta {
  /** Actor (site) id, hex. */
  actor: string
  /** libp2p peer id. */
  peerId: string
  clusterId: number
  /** HTTP API address, when known. */
  api?: string
}

/** Encodes member metadata as compact JSON bytes. */
export function encodeMemberMeta (meta: MemberMeta): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ a: meta.actor, p: meta.peerId, c: meta.clusterId, ...(meta.api !== undefined ? { h: meta.api } : {}) }))
}

/** Decodes member metadata; returns undefined for anything malformed (never throws). */
export function decodeMemberMeta (bytes: Uint8Array | undefined): MemberMeta | undefined {
  if (bytes === undefined || bytes.length === 0 || bytes.length > 4096) return undefined
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>
    if (typeof o.a !== 'string' || typeof o.p !== 'string' || typeof o.c !== 'number') return undefined
    return { actor: o.a, peerId: o.p, clusterId: o.c, ...(typeof o.h === 'string' ? { api: o.h } : {}) }
  } catch {
    return undefined
  }
}

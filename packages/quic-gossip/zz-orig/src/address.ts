import { multiaddr } from '@multiformats/multiaddr'
import type { Multiaddr } from '@multiformats/multiaddr'
import { InvalidAddressError } from './errors.ts'

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[0-9.]+|[A-Za-z0-9.-]+):(\d{1,5})$/

/**
 * Parse an address given as a multiaddr string (with or without `/p2p/<id>`) or as `host:port`
 * (taken as QUIC: `/ip4/host/udp/port/quic-v1`, `/ip6/…` for bracketed IPv6, `/dns/…` for names).
 */
export function toMultiaddr (addr: string): Multiaddr {
  if (addr.startsWith('/')) {
    try {
      return multiaddr(addr)
    } catch (err) {
      throw new InvalidAddressError(`invalid multiaddr "${addr}": ${(err as Error).message}`, { cause: err })
    }
  }
  const m = HOST_PORT.exec(addr)
  if (m == null) throw new InvalidAddressError(`invalid address "${addr}": expected a multiaddr or host:port`)
  const host = m[1] ?? ''
  const port = Number(m[2])
  if (port < 1 || port > 65535) throw new InvalidAddressError(`invalid port in "${addr}"`)
  let proto = 'dns'
  let h = host
  if (host.startsWith('[')) {
    proto = 'ip6'
    h = host.slice(1, -1)
  } else if (/^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    proto = 'ip4'
  }
  try {
    return multiaddr(`/${proto}/${h}/udp/${port}/quic-v1`)
  } catch (err) {
    throw new InvalidAddressError(`invalid address "${addr}": ${(err as Error).message}`, { cause: err })
  }
}

/** The peer id named by a multiaddr's last `/p2p/` component, if any. */
export function peerIdOf (ma: Multiaddr): string | undefined {
  const s = ma.toString()
  const i = s.lastIndexOf('/p2p/')
  if (i < 0) return undefined
  const rest = s.slice(i + 5)
  const slash = rest.indexOf('/')
  return slash < 0 ? rest : rest.slice(0, slash)
}

/** The multiaddr string without any `/p2p/<id>` suffix. */
export function withoutPeerId (ma: Multiaddr): string {
  const s = ma.toString()
  const i = s.lastIndexOf('/p2p/')
  return i < 0 ? s : s.slice(0, i)
}

import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { RejectReason, Tag, WIRE_VERSION } from './codec.ts'
import type { Message } from './codec.ts'
import { AdmissionError, HandshakeError } from './errors.ts'
import type { FramedStream } from './framed-stream.ts'

/** What both sides of a stream need to admit each other. */
export interface AdmissionPolicy {
  clusterId: number
  /** Key derived from the cluster secret; absent = no secret required. */
  secretKey?: Uint8Array
  /** Peer ids allowed in; absent = anyone with the right cluster id (and secret). */
  allowList?: ReadonlySet<string>
  localPeerId: string
  /** Our advertised address (sent so the remote can name us, e.g. as SWIM `from`). */
  localAddr: string
  timeoutMs: number
}

/** Result of a completed handshake. */
export interface HandshakeResult {
  /** The address the remote advertised. */
  remoteAddr: string
  /** Round trip of the Hello/Challenge exchange (dialer side only; 0 on the listener). */
  rttMs: number
}

const NONCE_BYTES = 16

/** HMAC over everything that makes this stream unique, so a proof can't be replayed elsewhere. */
export function admissionMac (key: Uint8Array, role: 'dialer' | 'listener', protocol: string, clusterId: number,
  dialer: string, listener: string, dialerNonce: Uint8Array, listenerNonce: Uint8Array): Uint8Array {
  const h = createHmac('sha256', key)
  h.update(`patina-admission/v${WIRE_VERSION}/${role}/${protocol}/${clusterId}/${dialer}/${listener}/`)
  h.update(dialerNonce)
  h.update(listenerNonce)
  return h.digest()
}

function macEqual (a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && timingSafeEqual(a, b)
}

async function expect (fs: FramedStream, timeoutMs: number, signal?: AbortSignal): Promise<Message> {
  const msg = await fs.next({ timeoutMs, ...(signal != null ? { signal } : {}) })
  if (msg == null) throw new HandshakeError('stream closed during the handshake')
  if (msg.tag === Tag.Reject) throw new AdmissionError(`rejected by peer: ${msg.message}`)
  return msg
}

function reject (fs: FramedStream, reason: number, message: string): AdmissionError {
  try {
    fs.send({ tag: Tag.Reject, reason, message })
  } catch {}
  void fs.close()
  return new AdmissionError(message)
}

/**
 * Run the dialer's half: Hello → (Challenge) → Proof. Data may follow the Proof at once; the
 * listener reads nothing else before checking it.
 */
export async function dialerHandshake (fs: FramedStream, protocol: string, remotePeer: string,
  policy: AdmissionPolicy, options?: { signal?: AbortSignal }): Promise<HandshakeResult> {
  if (policy.allowList != null && !policy.allowList.has(remotePeer)) {
    throw reject(fs, RejectReason.AllowList, `peer ${remotePeer} is not in the allow-list`)
  }
  const nonce = randomBytes(NONCE_BYTES)
  const started = performance.now()
  fs.send({ tag: Tag.Hello, version: WIRE_VERSION, clusterId: policy.clusterId, nonce, addr: policy.localAddr })
  const msg = await expect(fs, policy.timeoutMs, options?.signal)
  const rttMs = performance.now() - started
  if (msg.tag !== Tag.Challenge) throw new HandshakeError(`expected a challenge, got tag ${msg.tag}`)
  if (msg.version !== WIRE_VERSION) throw reject(fs, RejectReason.Version, `wire version ${msg.version} is not ${WIRE_VERSION}`)
  if (msg.clusterId !== policy.clusterId) throw reject(fs, RejectReason.Cluster, `peer is in cluster ${msg.clusterId}, not ${policy.clusterId}`)
  let proof: Uint8Array = new Uint8Array(0)
  if (policy.secretKey != null) {
    const want = admissionMac(policy.secretKey, 'listener', protocol, policy.clusterId, policy.localPeerId, remotePeer, nonce, msg.nonce)
    if (!macEqual(want, msg.mac)) throw reject(fs, RejectReason.Secret, 'peer failed to prove the cluster secret')
    proof = admissionMac(policy.secretKey, 'dialer', protocol, policy.clusterId, policy.localPeerId, remotePeer, nonce, msg.nonce)
  }
  fs.send({ tag: Tag.Proof, mac: proof })
  return { remoteAddr: msg.addr, rttMs }
}

/** Run the listener's half: check Hello, answer with a Challenge, check the Proof. */
export async function listenerHandshake (fs: FramedStream, protocol: string, remotePeer: string,
  policy: AdmissionPolicy, options?: { signal?: AbortSignal }): Promise<HandshakeResult> {
  if (policy.allowList != null && !policy.allowList.has(remotePeer)) {
    throw reject(fs, RejectReason.AllowList, `peer ${remotePeer} is not in the allow-list`)
  }
  const hello = await expect(fs, policy.timeoutMs, options?.signal)
  if (hello.tag !== Tag.Hello) throw new HandshakeError(`expected a hello, got tag ${hello.tag}`)
  if (hello.version !== WIRE_VERSION) throw reject(fs, RejectReason.Version, `wire version ${hello.version} is not ${WIRE_VERSION}`)
  if (hello.clusterId !== policy.clusterId) throw reject(fs, RejectReason.Cluster, `cluster ${hello.clusterId} is not ${policy.clusterId}`)
  if (hello.nonce.byteLength !== NONCE_BYTES) throw new HandshakeError('hello nonce has the wrong length')
  const nonce = randomBytes(NONCE_BYTES)
  const mac = policy.secretKey != null
    ? admissionMac(policy.secretKey, 'listener', protocol, policy.clusterId, remotePeer, policy.localPeerId, hello.nonce, nonce)
    : new Uint8Array(0)
  fs.send({ tag: Tag.Challenge, version: WIRE_VERSION, clusterId: policy.clusterId, nonce, mac, addr: policy.localAddr })
  const proof = await expect(fs, policy.timeoutMs, options?.signal)
  if (proof.tag !== Tag.Proof) throw new HandshakeError(`expected a proof, got tag ${proof.tag}`)
  if (policy.secretKey != null) {
    const want = admissionMac(policy.secretKey, 'dialer', protocol, policy.clusterId, remotePeer, policy.localPeerId, hello.nonce, nonce)
    if (!macEqual(want, proof.mac)) throw reject(fs, RejectReason.Secret, 'peer failed to prove the cluster secret')
  }
  return { remoteAddr: hello.addr, rttMs: 0 }
}

import { createHash, createHmac, pbkdf2Sync, timingSafeEqual } from 'node:crypto'
import { PgAuthError } from './errors.ts'

/** What the server keeps for one password (RFC 5802 / RFC 7677). */
export interface ScramCredentials {
  salt: Buffer
  iterations: number
  storedKey: Buffer
  serverKey: Buffer
}

const hmac = (key: Buffer, data: string): Buffer => createHmac('sha256', key).update(data).digest()
const sha256 = (data: Buffer): Buffer => createHash('sha256').update(data).digest()

/** Derives the SCRAM-SHA-256 credentials of `password` with the given salt and iteration count. */
export function scramCredentials (password: string, salt: Buffer, iterations = 4096): ScramCredentials {
  const salted = pbkdf2Sync(password.normalize('NFKC'), salt, iterations, 32, 'sha256')
  return {
    salt,
    iterations,
    storedKey: sha256(hmac(salted, 'Client Key')),
    serverKey: hmac(salted, 'Server Key')
  }
}

/** Options of {@link scramServer}. */
export interface ScramServerInit {
  credentials: ScramCredentials
  /** Random printable nonce chosen by the server (no `,`). */
  serverNonce: string
  /** When set, the exchange must be for this user name (libpq sends an empty `n=` and uses the startup user). */
  user?: string
}

/** The server side of one SCRAM-SHA-256 exchange. */
export interface ScramServer {
  /** Takes the client-first message; returns the server-first message. */
  first(clientFirst: string): string
  /** Takes the client-final message; verifies the proof; returns the server-final message. */
  final(clientFinal: string): string
}

function attributes (msg: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const part of msg.split(',')) {
    const eq = part.indexOf('=')
    if (eq !== 1) throw new PgAuthError(`malformed SCRAM attribute ${JSON.stringify(part.slice(0, 20))}`)
    out.set(part.slice(0, 1), part.slice(2))
  }
  return out
}

/** Creates the pure SCRAM-SHA-256 state machine for one authentication (no channel binding). */
export function scramServer (init: ScramServerInit): ScramServer {
  let clientFirstBare: string | null = null
  let serverFirst: string | null = null
  let nonce = ''
  let gs2Header = ''
  return {
    first (clientFirst) {
      if (clientFirstBare !== null) throw new PgAuthError('SCRAM exchange already started')
      // gs2-header: cbind-flag "," [authzid] ","
      const m = /^([nyp])(=[^,]*)?,([^,]*),(.*)$/.exec(clientFirst)
      if (m === null) throw new PgAuthError('malformed SCRAM client-first message')
      if (m[1] === 'p') throw new PgAuthError('SCRAM channel binding is not supported')
      gs2Header = `${m[1] as string}${m[2] ?? ''},${m[3] as string},`
      const bare = m[4] as string
      const attrs = attributes(bare)
      const clientNonce = attrs.get('r')
      if (clientNonce === undefined || clientNonce === '') throw new PgAuthError('SCRAM client-first message has no nonce')
      clientFirstBare = bare
      nonce = clientNonce + init.serverNonce
      serverFirst = `r=${nonce},s=${init.credentials.salt.toString('base64')},i=${init.credentials.iterations}`
      return serverFirst
    },
    final (clientFinal) {
      if (clientFirstBare === null || serverFirst === null) throw new PgAuthError('SCRAM final message before the first')
      const proofAt = clientFinal.lastIndexOf(',p=')
      if (proofAt < 0) throw new PgAuthError('SCRAM client-final message has no proof')
      const withoutProof = clientFinal.slice(0, proofAt)
      const attrs = attributes(clientFinal)
      if (attrs.get('c') !== Buffer.from(gs2Header).toString('base64')) throw new PgAuthError('SCRAM channel binding mismatch')
      if (attrs.get('r') !== nonce) throw new PgAuthError('SCRAM nonce mismatch')
      const proof = Buffer.from(attrs.get('p') ?? '', 'base64')
      if (proof.length !== 32) throw new PgAuthError('SCRAM proof has the wrong length')
      const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`
      const signature = hmac(init.credentials.storedKey, authMessage)
      const clientKey = Buffer.alloc(32)
      for (let i = 0; i < 32; i++) clientKey[i] = (proof[i] as number) ^ (signature[i] as number)
      if (!timingSafeEqual(sha256(clientKey), init.credentials.storedKey)) {
        throw new PgAuthError('password authentication failed')
      }
      return `v=${hmac(init.credentials.serverKey, authMessage).toString('base64')}`
    }
  }
}

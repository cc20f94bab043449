import { chmod, mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import type { PrivateKey } from '@libp2p/interface'
import { IdentityError } from './errors.ts'

/**
 * Load the node's Ed25519 identity from `path` (libp2p protobuf encoding), creating it with mode
 * 0600 when the file does not exist. The peer id is derived from this key, so keeping the file
 * keeps the node's identity across restarts.
 */
export async function loadOrCreateIdentity (path: string, options?: { signal?: AbortSignal }): Promise<PrivateKey> {
  options?.signal?.throwIfAborted()
  let bytes: Uint8Array | undefined
  try {
    bytes = await readFile(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new IdentityError(`cannot read identity file ${path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (bytes != null) {
    try {
      const key = privateKeyFromProtobuf(bytes)
      if (key.type !== 'Ed25519') throw new Error(`key type is ${key.type}, expected Ed25519`)
      return key
    } catch (err) {
      throw new IdentityError(`identity file ${path} is not a valid Ed25519 key: ${(err as Error).message}`, { cause: err })
    }
  }
  const key = await generateKeyPair('Ed25519')
  try {
    await mkdir(dirname(path), { recursive: true })
    // 'wx' so two processes racing on the same path never overwrite each other's key.
    const handle = await open(path, 'wx', 0o600)
    try {
      await handle.writeFile(privateKeyToProtobuf(key))
    } finally {
      await handle.close()
    }
    await chmod(path, 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return await loadOrCreateIdentity(path, options)
    throw new IdentityError(`cannot write identity file ${path}: ${(err as Error).message}`, { cause: err })
  }
  return key
}

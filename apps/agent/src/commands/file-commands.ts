import type { Command } from 'commander'
import { createReadStream, createWriteStream, existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs'
import { randomBytes } from 'node:crypto'
import { dirname, resolve } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { Transform } from 'node:stream'
import cliProgress from 'cli-progress'
import { configFrom, type CliIo, type GlobalOptions } from '../cli.ts'
import { adminRequest } from '../admin-client.ts'
import { socketAnswers } from '../admin-server.ts'
import { NodeRunningError } from '../errors.ts'

/** A progress bar on a TTY, nothing otherwise. */
function progressBar (io: CliIo, label: string): { update(done: number, total: number): void; stop(): void } {
  if ((io.stderr as { isTTY?: boolean }).isTTY !== true) return { update () {}, stop () {} }
  const bar = new cliProgress.SingleBar({ format: `${label} [{bar}] {percentage}% {value}/{total}`, stream: io.stderr as NodeJS.WriteStream }, cliProgress.Presets.shades_classic)
  let started = false
  return {
    update (done, total) {
      if (!started) { bar.start(total, 0); started = true }
      bar.setTotal(total)
      bar.update(done)
    },
    stop () { if (started) bar.stop() }
  }
}

/** Backs up a database file that no node has open. */
export async function offlineBackup (dbPath: string, dest: string, options?: { signal?: AbortSignal; progress?: (done: number, total: number) => void; keepIdentity?: boolean }): Promise<void> {
  if (!existsSync(dbPath)) throw new Error(`no database at ${dbPath}`)
  if (existsSync(dest)) throw new Error(`backup target ${dest} already exists; remove it or choose another file`)
  const { openStore } = await import('@patina/crdt-store')
  const store = openStore({ path: dbPath })
  try {
    await store.backup(dest, { ...(options?.signal !== undefined ? { signal: options.signal } : {}), ...(options?.progress !== undefined ? { progress: options.progress } : {}), ...(options?.keepIdentity === true ? { keepIdentity: true } : {}) })
  } finally {
    store.close()
  }
}

/**
 * Replaces the database at `dbPath` with the snapshot `src`. Refuses when a node answers on
 * `adminPath`. By default the restored node gets a NEW actor id: a fresh store is filled from the
 * snapshot through the store's own sync path (summary → needs → serve → apply), so the snapshot's
 * writes keep their origin actor and versions, and the new node never reuses another node's actor id.
 * With `keepActorId` the file is copied as is: with a `backup --keep-actor-id` snapshot the node comes
 * back as the very node it was (only for that node, and only if it has not written since).
 */
export async function restoreSnapshot (init: { src: string; dbPath: string; adminPath: string; subscriptionsPath?: string; keepActorId?: boolean; progress?: (done: number, total: number) => void; signal?: AbortSignal }): Promise<{ actor: string; changesets: number }> {
  if (await socketAnswers(init.adminPath)) throw new NodeRunningError(`a node is running on ${init.adminPath}; stop it before restoring`)
  if (!existsSync(init.src)) throw new Error(`no snapshot at ${init.src}`)
  mkdirSync(dirname(init.dbPath), { recursive: true })
  const tmp = `${init.dbPath}.restore-${process.pid}`
  const { openStore } = await import('@patina/crdt-store')
  let actor: string
  let changesets = 0
  try {
    for (const suffix of ['', '-wal', '-shm']) rmSync(tmp + suffix, { force: true })
    if (init.keepActorId === true) {
      const total = statSync(init.src).size
      let done = 0
      const counter = new Transform({
        transform (chunk: Buffer, _enc, cb) {
          done += chunk.length
          init.progress?.(done, total)
          cb(null, chunk)
        }
      })
      await pipeline(createReadStream(init.src), counter, createWriteStream(tmp), ...(init.signal !== undefined ? [{ signal: init.signal }] : []) as [])
      // Opening it proves it is a store before anything is replaced.
      const check = openStore({ path: tmp })
      actor = Buffer.from(check.siteId).toString('hex')
      check.close()
    } else {
      // Work on a private copy so the snapshot file itself is never written to.
      const copy = `${tmp}.src`
      await pipeline(createReadStream(init.src), createWriteStream(copy))
      const from = openStore({ path: copy })
      const to = openStore({ path: tmp })
      try {
        to.applySchema([...from.schema().tables.map(t => t.sql + ';'), ...from.schema().indexes.map(i => i.sql + ';')])
        const summary = from.summary()
        const total = summary.actors.reduce((n, a) => n + a.head, 0)
        let versions = 0
        for (const cs of from.serve(to.needs(summary))) {
          init.signal?.throwIfAborted()
          to.apply(cs)
          changesets++
          if (cs.seqs[1] >= cs.lastSeq) init.progress?.(++versions, Math.max(total, versions))
        }
        actor = Buffer.from(to.siteId).toString('hex')
      } finally {
        from.close()
        to.close()
        for (const suffix of ['', '-wal', '-shm']) rmSync(copy + suffix, { force: true })
      }
    }
    for (const suffix of ['', '-wal', '-shm']) rmSync(init.dbPath + suffix, { force: true })
    for (const suffix of ['-wal', '-shm']) if (existsSync(tmp + suffix)) renameSync(tmp + suffix, init.dbPath + suffix)
    renameSync(tmp, init.dbPath)
    // Subscriptions describe the old content; clients re-create them.
    if (init.subscriptionsPath !== undefined) rmSync(init.subscriptionsPath, { recursive: true, force: true })
    return { actor, changesets }
  } finally {
    for (const suffix of ['', '-wal', '-shm']) rmSync(tmp + suffix, { force: true })
  }
}

/** Registers `backup`, `restore` and `keygen`. */
export function registerFileCommands (program: Command, io: CliIo): void {
  program.command('backup')
    .description('write a consistent snapshot of the database (through the running node, or from the file when it is stopped)')
    .argument('<file>', 'destination file')
    .option('--keep-actor-id', 'keep this node\'s actor id in the snapshot (only to restore this very node later)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean; keepActorId?: boolean }, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>(), io)
      const dest = resolve(file)
      // Like Corrosion's VACUUM INTO: never overwrite an existing file (an older snapshot, or worse).
      if (existsSync(dest)) throw new Error(`backup target ${dest} already exists; remove it or choose another file`)
      let mode: 'online' | 'offline'
      if (await socketAnswers(config.admin.path)) {
        await adminRequest(config.admin.path, { Backup: { path: dest, ...(opts.keepActorId === true ? { keep_identity: true } : {}) } })
        mode = 'online'
      } else {
        const bar = progressBar(io, 'backup')
        try { await offlineBackup(config.db.path, dest, { progress: bar.update, keepIdentity: opts.keepActorId === true }) } finally { bar.stop() }
        mode = 'offline'
      }
      const size = statSync(dest).size
      io.stdout.write(opts.json === true ? JSON.stringify({ path: dest, bytes: size, mode }) + '\n' : `backup written to ${dest} (${size} bytes, ${mode})\n`)
    })

  program.command('restore')
    .description('replace the database with a snapshot; refuses while the node runs')
    .argument('<file>', 'snapshot made by `patina backup`')
    .option('--keep-actor-id', 'keep the snapshot\'s actor id (a `backup --keep-actor-id` of the very node being brought back)')
    .option('--json', 'print JSON')
    .action(async (file: string, opts: { json?: boolean; keepActorId?: boolean }, cmd: Command) => {
      const config = configFrom(cmd.optsWithGlobals<GlobalOptions>(), io)
      const bar = progressBar(io, 'restore')
      let out: { actor: string; changesets: number }
      try {
        out = await restoreSnapshot({ src: resolve(file), dbPath: config.db.path, adminPath: config.admin.path, subscriptionsPath: config.db.subscriptionsPath, keepActorId: opts.keepActorId === true, progress: bar.update })
      } finally {
        bar.stop()
      }
      io.stdout.write(opts.json === true ? JSON.stringify({ path: config.db.path, ...out }) + '\n' : `restored ${config.db.path} from ${resolve(file)} (actor ${out.actor})\n`)
    })

  program.command('keygen')
    .description('print a random cluster secret for [gossip] secret; with --identity, create a node identity key')
    .option('--identity <file>', 'write (or read, if it exists) an Ed25519 identity key file and print its peer id')
    .option('--json', 'print JSON')
    .action(async (opts: { identity?: string; json?: boolean }) => {
      const secret = randomBytes(32).toString('base64url')
      let peerId: string | undefined
      if (opts.identity !== undefined) {
        const path = resolve(opts.identity)
        mkdirSync(dirname(path), { recursive: true })
        const { createGossipNode } = await import('@patina/quic-gossip')
        const node = await createGossipNode({ identityPath: path })
        peerId = node.peerId
      }
      if (opts.json === true) io.stdout.write(JSON.stringify({ secret, ...(peerId !== undefined ? { peerId, identity: resolve(opts.identity ?? '') } : {}) }) + '\n')
      else io.stdout.write(`secret = "${secret}"\n${peerId !== undefined ? `peer id: ${peerId}\n` : ''}`)
    })
}

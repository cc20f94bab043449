import { existsSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { parse as parseToml } from 'smol-toml'
import { ConfigError } from './errors.ts'

/** The agent's configuration, every key resolved to a value. */
export interface AgentConfig {
  db: {
    /** SQLite file (absolute). */
    path: string
    /** `.sql` files or directories of them (absolute). */
    schemaPaths: string[]
    /** Where subscriptions persist (absolute). */
    subscriptionsPath: string
  }
  api: {
    /** HTTP listen addresses, `host:port`. */
    addr: string[]
    /** PostgreSQL wire endpoint listen address, or null when off. */
    pgAddr: string | null
    /** `api.pg.readonly`: the PG endpoint refuses every write (SQLSTATE 25006). */
    pgReadonly: boolean
    /** `[api.pg.tls]` `cert_file` / `key_file` (absolute): the PG endpoint offers TLS (SSLRequest); null = plaintext only. */
    pgTls: { certFile: string; keyFile: string } | null
    /** Optional PG password auth. */
    pgUser: string | null
    pgPassword: string | null
    /** Bearer token required by the HTTP API, or null. */
    bearerToken: string | null
    /** `api.endpoint_name`: requests naming another endpoint in `x-corrosion-requested-endpoint-name` get 421; null = no check. */
    endpointName: string | null
  }
  gossip: {
    /** UDP listen address for QUIC, `host:port`. */
    addr: string
    /** Address advertised to other members (`host:port`), when it differs from `addr` (NAT, 0.0.0.0). */
    externalAddr: string | null
    /** Other nodes, `host:port`. */
    bootstrap: string[]
    clusterId: number
    secret: string | null
    allowPeers: string[]
    /** Ed25519 key file (absolute). */
    identityPath: string
    plaintext: boolean
    maxMtu: number | null
  }
  admin: { path: string }
  telemetry: { prometheusAddr: string | null }
  log: { format: 'plaintext' | 'json'; colors: boolean; level: string }
  /**
   * Keys set in the file or overrides that Patina accepts for Corrosion compatibility but does not
   * act on (dotted names, in the order met). `patina agent` logs them in one warning at start.
   */
  ignoredKeys: string[]
}

type KeyType = 'string' | 'string?' | 'strings' | 'int' | 'int?' | 'bool'

interface KeySpec { type: KeyType; canonical?: string; ignored?: boolean }

/** Every accepted key, with aliases pointing at their canonical key. */
const KEYS: Record<string, KeySpec> = {
  'db.path': { type: 'string' },
  'db.schema_paths': { type: 'strings' },
  'db.subscriptions_path': { type: 'string?' },
  'db.cache_size_kib': { type: 'int', ignored: true },
  'api.addr': { type: 'strings' },
  'api.bind_addr': { type: 'strings', canonical: 'api.addr' },
  'api.endpoint_name': { type: 'string?' },
  'api.pg.addr': { type: 'string?' },
  'api.pg.user': { type: 'string?' },
  'api.pg.password': { type: 'string?' },
  'api.pg.readonly': { type: 'bool' },
  'api.pg.tls.cert_file': { type: 'string?' },
  'api.pg.tls.key_file': { type: 'string?' },
  // Only the server side of Corrosion's [api.pg.tls] is implemented: `ca_file` matters only with
  // `verify_client`, which is refused (see resolveConfig), so without it `ca_file` is ignored.
  'api.pg.tls.ca_file': { type: 'string?', ignored: true },
  'api.pg.tls.verify_client': { type: 'bool' },
  'api.authz.bearer-token': { type: 'string?' },
  'api.authz.authorization': { type: 'string?', canonical: 'api.authz.bearer-token' },
  'api.authz.bearer': { type: 'string?', canonical: 'api.authz.bearer-token' },
  // Corrosion's serde aliases: `authorization` for the `authz` table, `bearer` for `bearer-token`.
  'api.authorization.bearer-token': { type: 'string?', canonical: 'api.authz.bearer-token' },
  'api.authorization.bearer': { type: 'string?', canonical: 'api.authz.bearer-token' },
  'gossip.addr': { type: 'string' },
  'gossip.bind_addr': { type: 'string', canonical: 'gossip.addr' },
  'gossip.external_addr': { type: 'string?' },
  'gossip.client_addr': { type: 'string?', ignored: true },
  'gossip.bootstrap': { type: 'strings' },
  'gossip.cluster_id': { type: 'int' },
  'gossip.member_id': { type: 'int?', ignored: true },
  // Patina's gossip is libp2p QUIC, always encrypted, with its own MTU handling: both are checked, never read.
  'gossip.plaintext': { type: 'bool', ignored: true },
  'gossip.max_mtu': { type: 'int?', ignored: true },
  'gossip.idle_timeout_secs': { type: 'int', ignored: true },
  'gossip.disable_gso': { type: 'bool', ignored: true },
  'gossip.secret': { type: 'string?' },
  'gossip.allow_peers': { type: 'strings' },
  'gossip.identity_path': { type: 'string?' },
  'admin.path': { type: 'string' },
  'admin.uds_path': { type: 'string', canonical: 'admin.path' },
  'telemetry.prometheus.addr': { type: 'string?' },
  'log.format': { type: 'string' },
  'log.colors': { type: 'bool' },
  'log.level': { type: 'string' }
}

/**
 * Sections accepted for Corrosion compatibility whose keys are ignored (reported in `ignoredKeys`).
 * `consul` (including `consul.client.tls`) is here because Patina has no Consul client at all: nothing
 * would connect in plaintext instead.
 */
const IGNORED_SECTIONS = new Set(['perf', 'consul', 'reaper', 'gossip.compression', 'gossip.broadcast', 'telemetry.open-telemetry'])

/**
 * Sections whose keys are refused: ignoring them would silently weaken security (the node would run
 * without the authentication the file asks for), so a config setting any of them does not load.
 */
const REFUSED_SECTIONS: ReadonlyArray<readonly [string, string]> = [
  ['gossip.tls', 'TLS certificates for gossip are not supported: Patina\'s gossip is libp2p QUIC (always encrypted, peers identified by libp2p keys), and ignoring [gossip.tls] would let peers join without the certificates this file requires; remove [gossip.tls] and restrict peers with gossip.secret and/or gossip.allow_peers instead']
]

function sectionOf (key: string, sections: Iterable<string>): string | undefined {
  for (const s of sections) if (key === s || key.startsWith(s + '.')) return s
  return undefined
}

function refusal (key: string): string | undefined {
  return REFUSED_SECTIONS.find(([s]) => key === s || key.startsWith(s + '.'))?.[1]
}

const DEFAULTS: Record<string, unknown> = {
  'db.path': './data/patina.db',
  'db.schema_paths': [],
  'db.subscriptions_path': null,
  'api.addr': ['127.0.0.1:8080'],
  'api.pg.addr': null,
  'api.pg.user': null,
  'api.pg.password': null,
  'api.pg.readonly': false,
  'api.pg.tls.cert_file': null,
  'api.pg.tls.key_file': null,
  'api.pg.tls.ca_file': null,
  'api.pg.tls.verify_client': false,
  'api.endpoint_name': null,
  'api.authz.bearer-token': null,
  'gossip.addr': '127.0.0.1:8787',
  'gossip.external_addr': null,
  'gossip.bootstrap': [],
  'gossip.cluster_id': 0,
  'gossip.plaintext': false,
  'gossip.max_mtu': null,
  'gossip.secret': null,
  'gossip.allow_peers': [],
  'gossip.identity_path': null,
  'admin.path': null,
  'telemetry.prometheus.addr': null,
  'log.format': 'plaintext',
  'log.colors': true,
  'log.level': 'info'
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'])

/** Where to read configuration from. */
export interface LoadConfigInit {
  /** TOML file; omitted = defaults only. */
  path?: string
  /** TOML text (instead of `path`). */
  text?: string
  /** Environment; `PATINA_*` entries override the file. */
  env?: Record<string, string | undefined>
  /** Dotted keys set last (CLI flags, tests). */
  overrides?: Record<string, unknown>
  /** Base for relative paths (default: the process's working directory). */
  cwd?: string
}

/**
 * Reads, merges (defaults < file < environment < overrides) and validates the configuration.
 * Throws `ConfigError` naming the first bad key.
 */
export function loadConfig (init: LoadConfigInit = {}): AgentConfig {
  const cwd = init.cwd ?? process.cwd()
  const values = new Map<string, unknown>(Object.entries(DEFAULTS))
  const ignored = new Set<string>()
  let text = init.text
  if (text === undefined && init.path !== undefined) {
    try {
      text = readFileSync(init.path, 'utf8')
    } catch (err) {
      throw new ConfigError('', `cannot read config file ${init.path}: ${(err as Error).message}`, { cause: err })
    }
  }
  if (text !== undefined) {
    let doc: Record<string, unknown>
    try {
      doc = parseToml(text) as Record<string, unknown>
    } catch (err) {
      throw new ConfigError('', `config file is not valid TOML: ${(err as Error).message.split('\n')[0] ?? ''}`, { cause: err })
    }
    const file = new Map<string, string>()
    for (const [key, value] of flatten(doc, '')) {
      if (sectionOf(key, IGNORED_SECTIONS) !== undefined) { ignored.add(key); continue }
      setKey(values, key, value, 'file', file)
      if (KEYS[key]?.ignored === true) ignored.add(key)
    }
  }
  const env = new Map<string, string>()
  for (const [name, raw] of Object.entries(init.env ?? {})) {
    // Every key lives in a section, so overrides always nest with `__`; other PATINA_* names are not config.
    if (!name.startsWith('PATINA_') || !name.includes('__') || raw === undefined) continue
    const key = envKey(name.slice('PATINA_'.length))
    if (key === undefined) throw new ConfigError(name, 'unknown configuration key in environment')
    setKey(values, key, parseEnvValue(raw, KEYS[key]?.type ?? 'string'), 'env', env)
    if (KEYS[key]?.ignored === true) ignored.add(key)
  }
  const overrides = new Map<string, string>()
  for (const [key, value] of Object.entries(init.overrides ?? {})) {
    if (value === undefined) continue
    setKey(values, key, value, 'override', overrides)
    if (KEYS[key]?.ignored === true) ignored.add(key)
  }
  return { ...resolveConfig(values, cwd), ignoredKeys: [...ignored] }
}

function flatten (obj: Record<string, unknown>, prefix: string): Array<[string, unknown]> {
  const out: Array<[string, unknown]> = []
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix === '' ? k : `${prefix}.${k}`
    const whole = sectionOf(key, IGNORED_SECTIONS) !== undefined || refusal(key) !== undefined
    // Corrosion also accepts `[[api.pg]]`; Patina serves one PG listener, the first.
    if (key === 'api.pg' && Array.isArray(v)) {
      if (v.length > 1) throw new ConfigError('api.pg', 'only one PostgreSQL listener is supported')
      if (v.length === 1 && v[0] !== null && typeof v[0] === 'object') out.push(...flatten(v[0] as Record<string, unknown>, key))
      continue
    }
    if (v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date) && (whole || !(key in KEYS))) {
      out.push(...flatten(v as Record<string, unknown>, key))
    } else {
      out.push([key, v])
    }
  }
  return out
}

/** Maps `GOSSIP__BOOTSTRAP` / `API__AUTHZ__BEARER_TOKEN` to a known key. */
function envKey (rest: string): string | undefined {
  const wanted = rest.split('__').map(norm).join('.')
  for (const key of Object.keys(KEYS)) {
    if (key.split('.').map(norm).join('.') === wanted) return key
  }
  // Refused sections answer with their reason, from the environment too.
  for (const [section] of REFUSED_SECTIONS) {
    if (wanted === norm(section) || wanted.startsWith(norm(section) + '.')) return wanted
  }
  return undefined
}

function norm (s: string): string {
  return s.toLowerCase().replaceAll('-', '_')
}

function parseEnvValue (raw: string, type: KeyType): unknown {
  const s = raw.trim()
  switch (type) {
    case 'strings':
      if (s.startsWith('[')) {
        try { return JSON.parse(s) } catch { return raw }
      }
      return s === '' ? [] : s.split(',').map(x => x.trim()).filter(x => x !== '')
    case 'int': case 'int?':
      return /^-?\d+$/.test(s) ? Number(s) : raw
    case 'bool':
      if (/^(true|1|yes|on)$/i.test(s)) return true
      if (/^(false|0|no|off)$/i.test(s)) return false
      return raw
    default:
      return raw
  }
}

/**
 * Sets one key of one source (`from`). `layer` records which spelling set each canonical key in
 * that source: a later source overrides an earlier one, but two spellings of one key in the same
 * source (`[api.authz] bearer-token` and `[api.authorization] bearer`) must agree, since neither
 * can be said to win.
 */
function setKey (values: Map<string, unknown>, key: string, value: unknown, from: string, layer: Map<string, string>): void {
  const refused = refusal(key)
  if (refused !== undefined) throw new ConfigError(key, refused)
  const spec = KEYS[key]
  if (spec === undefined) throw new ConfigError(key, `unknown configuration key (from ${from})`)
  const canonical = spec.canonical ?? key
  const checked = checkType(canonical, spec.type, value)
  const earlier = layer.get(canonical)
  if (earlier !== undefined && earlier !== key && JSON.stringify(values.get(canonical)) !== JSON.stringify(checked)) {
    throw new ConfigError(key, `conflicts with ${earlier} (from ${from}): both spellings of ${canonical} are set, to different values`)
  }
  layer.set(canonical, key)
  values.set(canonical, checked)
}

function checkType (key: string, type: KeyType, value: unknown): unknown {
  const kind = Array.isArray(value) ? 'array' : typeof value
  switch (type) {
    case 'string':
      if (typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${kind}`)
      return value
    case 'string?':
      if (value !== null && typeof value !== 'string') throw new ConfigError(key, `expected a string, got ${kind}`)
      return value
    case 'strings':
      if (typeof value === 'string') return [value]
      if (!Array.isArray(value) || value.some(v => typeof v !== 'string')) throw new ConfigError(key, `expected a string or a list of strings, got ${kind}`)
      return value
    case 'int': case 'int?':
      if (value === null && type === 'int?') return null
      if (typeof value === 'bigint') return Number(value)
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new ConfigError(key, `expected an integer, got ${JSON.stringify(value)}`)
      return value
    case 'bool':
      if (typeof value !== 'boolean') throw new ConfigError(key, `expected true or false, got ${JSON.stringify(value)}`)
      return value
  }
}

/** Parses `host:port` or `[v6]:port`; throws ConfigError naming `key`. */
export function parseHostPort (key: string, value: string): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(value) ?? /^([^:[\]]+):(\d+)$/.exec(value)
  if (m === null) throw new ConfigError(key, `expected host:port, got ${JSON.stringify(value)}`)
  const port = Number(m[2])
  if (port > 65535) throw new ConfigError(key, `port out of range in ${JSON.stringify(value)}`)
  return { host: m[1] ?? '', port }
}

/** `host:port` → a QUIC multiaddr (`/ip4/h/udp/p/quic-v1`, `/ip6/…`, or `/dns/…`). */
export function toQuicMultiaddr (hostPort: string, key = 'gossip.addr'): string {
  if (hostPort.startsWith('/')) return hostPort
  const { host, port } = parseHostPort(key, hostPort)
  const proto = /^\d+\.\d+\.\d+\.\d+$/.test(host) ? 'ip4' : host.includes(':') ? 'ip6' : 'dns'
  return `/${proto}/${host}/udp/${port}/quic-v1`
}

/**
 * `[api.pg.tls]`: server certificate and key, both or neither, files that exist. Client certificate
 * verification is not implemented, and a listener ignoring `verify_client = true` would let in clients
 * without certificates, so it is refused rather than downgraded.
 */
function resolvePgTls (v: Map<string, unknown>, cwd: string): AgentConfig['api']['pgTls'] {
  if (v.get('api.pg.tls.verify_client') === true) {
    throw new ConfigError('api.pg.tls.verify_client', 'client certificate verification (mTLS) for the PostgreSQL endpoint is not supported; the listener would otherwise accept clients without a certificate. Remove verify_client (server-side TLS with cert_file and key_file is supported)')
  }
  const cert = v.get('api.pg.tls.cert_file') as string | null
  const key = v.get('api.pg.tls.key_file') as string | null
  if (cert === null && key === null) return null
  if (cert === null || key === null) {
    const missing = cert === null ? 'api.pg.tls.cert_file' : 'api.pg.tls.key_file'
    throw new ConfigError(missing, 'TLS for the PostgreSQL endpoint needs both cert_file and key_file; with only one the listener would be plaintext')
  }
  const out = { certFile: resolve(cwd, cert), keyFile: resolve(cwd, key) }
  if (!existsSync(out.certFile)) throw new ConfigError('api.pg.tls.cert_file', `no such file: ${out.certFile}`)
  if (!existsSync(out.keyFile)) throw new ConfigError('api.pg.tls.key_file', `no such file: ${out.keyFile}`)
  return out
}

function resolveConfig (v: Map<string, unknown>, cwd: string): Omit<AgentConfig, 'ignoredKeys'> {
  const str = (k: string): string => v.get(k) as string
  const opt = (k: string): string | null => (v.get(k) as string | null | undefined) ?? null
  const list = (k: string): string[] => v.get(k) as string[]
  const dbPath = str('db.path')
  if (dbPath === '') throw new ConfigError('db.path', 'must not be empty')
  const absDb = dbPath === ':memory:' ? dbPath : resolve(cwd, dbPath)
  const dataDir = absDb === ':memory:' ? resolve(cwd, 'data') : dirname(absDb)
  const apiAddr = list('api.addr')
  if (apiAddr.length === 0) throw new ConfigError('api.addr', 'at least one address is required')
  for (const a of apiAddr) parseHostPort('api.addr', a)
  const pgAddr = opt('api.pg.addr')
  if (pgAddr !== null) parseHostPort('api.pg.addr', pgAddr)
  const pgTls = resolvePgTls(v, cwd)
  const gossipAddr = str('gossip.addr')
  parseHostPort('gossip.addr', gossipAddr)
  const externalAddr = opt('gossip.external_addr')
  if (externalAddr !== null && !externalAddr.startsWith('/')) parseHostPort('gossip.external_addr', externalAddr)
  const bootstrap = list('gossip.bootstrap')
  for (const b of bootstrap) if (!b.startsWith('/')) parseHostPort('gossip.bootstrap', b)
  const clusterId = v.get('gossip.cluster_id') as number
  if (clusterId < 0 || clusterId > 65535) throw new ConfigError('gossip.cluster_id', `must be between 0 and 65535, got ${clusterId}`)
  const maxMtu = v.get('gossip.max_mtu') as number | null
  if (maxMtu !== null && maxMtu < 1200) throw new ConfigError('gossip.max_mtu', `must be at least 1200, got ${maxMtu}`)
  const secret = opt('gossip.secret')
  if (secret !== null && secret.length < 8) throw new ConfigError('gossip.secret', 'must be at least 8 characters')
  const prom = opt('telemetry.prometheus.addr')
  if (prom !== null) parseHostPort('telemetry.prometheus.addr', prom)
  const format = str('log.format')
  if (format !== 'plaintext' && format !== 'json') throw new ConfigError('log.format', `expected "plaintext" or "json", got ${JSON.stringify(format)}`)
  const level = str('log.level')
  if (!LOG_LEVELS.has(level)) throw new ConfigError('log.level', `expected one of ${[...LOG_LEVELS].join(', ')}, got ${JSON.stringify(level)}`)
  const adminPath = opt('admin.path') ?? join(dataDir, 'admin.sock')
  if (Buffer.byteLength(resolve(cwd, adminPath)) > 104) throw new ConfigError('admin.path', 'unix socket path is too long (max 104 bytes)')
  return {
    db: {
      path: absDb,
      schemaPaths: list('db.schema_paths').map(p => resolve(cwd, p)),
      subscriptionsPath: resolve(cwd, opt('db.subscriptions_path') ?? join(dataDir, 'subscriptions'))
    },
    api: {
      addr: apiAddr,
      pgAddr,
      pgReadonly: v.get('api.pg.readonly') as boolean,
      pgTls,
      pgUser: opt('api.pg.user'),
      pgPassword: opt('api.pg.password'),
      bearerToken: opt('api.authz.bearer-token'),
      endpointName: opt('api.endpoint_name')
    },
    gossip: {
      addr: gossipAddr,
      externalAddr,
      bootstrap,
      clusterId,
      secret,
      allowPeers: list('gossip.allow_peers'),
      identityPath: resolve(cwd, opt('gossip.identity_path') ?? join(dataDir, 'identity.key')),
      plaintext: v.get('gossip.plaintext') as boolean,
      maxMtu
    },
    admin: { path: resolve(cwd, adminPath) },
    telemetry: { prometheusAddr: prom },
    log: { format, colors: v.get('log.colors') as boolean, level }
  }
}

import { describe, it, expect } from 'vitest'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { loadConfig, toQuicMultiaddr } from '../src/config.ts'

function configErrorOf (fn: () => unknown): { name: string; key: string; message: string } {
  try {
    fn()
  } catch (err) {
    return err as { name: string; key: string; message: string }
  }
  throw new Error('expected a ConfigError')
}

describe('loadConfig', () => {
  it('defaults run one node under ./data with no file at all', () => {
    const c = loadConfig({ cwd: '/srv/x', env: {} })
    expect(c.db.path).toBe('/srv/x/data/patina.db')
    expect(c.db.schemaPaths).toEqual([])
    expect(c.api.addr).toEqual(['127.0.0.1:8080'])
    expect(c.gossip.addr).toBe('127.0.0.1:8787')
    expect(c.admin.path).toBe('/srv/x/data/admin.sock')
    expect(c.gossip.identityPath).toBe('/srv/x/data/identity.key')
    expect(c.api.pgAddr).toBeNull()
    expect(c.telemetry.prometheusAddr).toBeNull()
    expect(c.log).toEqual({ format: 'plaintext', colors: true, level: 'info' })
  })

  it('reads Corrosion sections, keys and aliases', () => {
    const c = loadConfig({
      cwd: '/srv',
      text: `
[db]
path = "/var/lib/patina/state.db"
schema_paths = ["schema", "/etc/extra.sql"]

[api]
bind_addr = ["127.0.0.1:9000", "127.0.0.1:9001"]
pg.addr = "127.0.0.1:5433"
authz.bearer-token = "tok"

[gossip]
addr = "0.0.0.0:7000"
bootstrap = ["10.0.0.1:7000", "[::1]:7001"]
cluster_id = 12
plaintext = true
max_mtu = 1400
secret = "a-long-secret"
allow_peers = ["12D3KooWabc"]

[admin]
uds_path = "/tmp/p.sock"

[telemetry]
prometheus.addr = "127.0.0.1:9090"

[log]
format = "json"
colors = false

[perf]
apply_queue_len = 10
`
    })
    expect(c.db.path).toBe('/var/lib/patina/state.db')
    expect(c.db.schemaPaths).toEqual(['/srv/schema', '/etc/extra.sql'])
    expect(c.db.subscriptionsPath).toBe('/var/lib/patina/subscriptions')
    expect(c.api.addr).toEqual(['127.0.0.1:9000', '127.0.0.1:9001'])
    expect(c.api.pgAddr).toBe('127.0.0.1:5433')
    expect(c.api.bearerToken).toBe('tok')
    expect(c.gossip.externalAddr).toBeNull()
    expect(c.gossip).toMatchObject({ addr: '0.0.0.0:7000', bootstrap: ['10.0.0.1:7000', '[::1]:7001'], clusterId: 12, secret: 'a-long-secret', allowPeers: ['12D3KooWabc'], maxMtu: 1400 })
    expect(c.admin.path).toBe('/tmp/p.sock')
    expect(c.telemetry.prometheusAddr).toBe('127.0.0.1:9090')
    expect(c.log.format).toBe('json')
  })

  it('environment overrides the file; CLI overrides the environment', () => {
    const dir = mkdtempSync(join(tmpdir(), 'patina-cfg-'))
    const file = join(dir, 'c.toml')
    writeFileSync(file, '[gossip]\naddr = "127.0.0.1:1"\n[api]\naddr = "127.0.0.1:2"\n')
    const c = loadConfig({
      path: file,
      env: { PATINA_GOSSIP__ADDR: '127.0.0.1:3', PATINA_GOSSIP__BOOTSTRAP: 'a:1, b:2', PATINA_API__AUTHZ__BEARER_TOKEN: 'x', PATINA_LOG__COLORS: 'false', PATINA_GOSSIP__CLUSTER_ID: '9', PATINA_SWIM_PRESET: 'local', HOME: '/root' },
      overrides: { 'api.addr': '127.0.0.1:4' }
    })
    expect(c.gossip.addr).toBe('127.0.0.1:3')
    expect(c.gossip.bootstrap).toEqual(['a:1', 'b:2'])
    expect(c.gossip.clusterId).toBe(9)
    expect(c.api.bearerToken).toBe('x')
    expect(c.api.addr).toEqual(['127.0.0.1:4'])
    expect(c.log.colors).toBe(false)
  })

  it.each([
    ['[gossip]\naddr = "nope"', 'gossip.addr', /host:port/],
    ['[gossip]\nadr = "127.0.0.1:1"', 'gossip.adr', /unknown/],
    ['[gossip]\nmax_mtu = 500', 'gossip.max_mtu', /1200/],
    ['[gossip]\ncluster_id = 70000', 'gossip.cluster_id', /65535/],
    ['[gossip]\ncluster_id = "x"', 'gossip.cluster_id', /integer/],
    ['[gossip]\nbootstrap = ["127.0.0.1"]', 'gossip.bootstrap', /host:port/],
    ['[gossip]\nexternal_addr = "10.0.0.1"', 'gossip.external_addr', /host:port/],
    ['[api]\naddr = "127.0.0.1:99999"', 'api.addr', /range/],
    ['[log]\nformat = "xml"', 'log.format', /plaintext/],
    ['[db]\nschema_paths = 3', 'db.schema_paths', /list of strings/],
    ['[nope]\nx = 1', 'nope.x', /unknown/]
  ])('rejects %j naming the key', (text, key, msg) => {
    const err = configErrorOf(() => loadConfig({ text, env: {} }))
    expect(err.name).toBe('ConfigError')
    expect(err.key).toBe(key)
    expect(err.message).toMatch(msg)
    expect(err.message.startsWith(key)).toBe(true)
  })

  it('rejects invalid TOML, unknown env keys, bad env values and a missing file', () => {
    expect(configErrorOf(() => loadConfig({ text: '[db\npath=' })).message).toMatch(/not valid TOML/)
    expect(configErrorOf(() => loadConfig({ env: { PATINA_GOSSIP__NOPE: '1' } })).key).toBe('PATINA_GOSSIP__NOPE')
    expect(configErrorOf(() => loadConfig({ env: { PATINA_GOSSIP__CLUSTER_ID: 'abc' } })).key).toBe('gossip.cluster_id')
    expect(configErrorOf(() => loadConfig({ path: '/nonexistent/patina.toml' })).message).toMatch(/cannot read config file/)
  })

  it('accepts [[api.pg]] with one listener', () => {
    expect(loadConfig({ text: '[[api.pg]]\naddr = "127.0.0.1:6000"\n', env: {} }).api.pgAddr).toBe('127.0.0.1:6000')
    expect(configErrorOf(() => loadConfig({ text: '[[api.pg]]\naddr = "127.0.0.1:6000"\n[[api.pg]]\naddr = "127.0.0.1:6001"\n', env: {} })).key).toBe('api.pg')
  })

  it('maps host:port to QUIC multiaddrs', () => {
    expect(toQuicMultiaddr('127.0.0.1:8787')).toBe('/ip4/127.0.0.1/udp/8787/quic-v1')
    expect(toQuicMultiaddr('[::1]:8787')).toBe('/ip6/::1/udp/8787/quic-v1')
    expect(toQuicMultiaddr('node1.local:8787')).toBe('/dns/node1.local/udp/8787/quic-v1')
    expect(toQuicMultiaddr('/ip4/1.2.3.4/udp/1/quic-v1')).toBe('/ip4/1.2.3.4/udp/1/quic-v1')
  })
})

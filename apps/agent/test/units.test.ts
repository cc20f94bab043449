import { describe, it, expect } from 'vitest'
import { fatalCode, isFatalSqliteError } from '../src/fatal.ts'
import { LagWindow, createMetrics } from '../src/metrics.ts'
import { PartitionFilter } from '../src/adapters/partition.ts'
import { encodeMemberMeta, decodeMemberMeta } from '../src/adapters/member-meta.ts'
import { gossipMetricsAdapter } from '../src/adapters/gossip-metrics.ts'
import { formatTable } from '../src/commands/output.ts'
import { parsePrometheus, sumSamples } from '../../../tools/cluster/src/index.ts'

describe('fatal SQLite errors', () => {
  it('finds disk-full, corrupt and I/O codes anywhere in the cause chain', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })
    expect(fatalCode(full)).toBe('SQLITE_FULL')
    expect(fatalCode(new Error('wrapped', { cause: Object.assign(new Error('x'), { code: 'SQLITE_IOERR_WRITE' }) }))).toBe('SQLITE_IOERR_WRITE')
    expect(isFatalSqliteError(Object.assign(new Error('x'), { code: 'SQLITE_CORRUPT' }))).toBe(true)
    expect(isFatalSqliteError(Object.assign(new Error('x'), { code: 'SQLITE_CONSTRAINT_PRIMARYKEY' }))).toBe(false)
    expect(isFatalSqliteError(new Error('no code'))).toBe(false)
    expect(isFatalSqliteError(null)).toBe(false)
  })
})

describe('LagWindow', () => {
  it('reports the p99 over the last 120 s and null without samples', () => {
    const w = new LagWindow(120_000)
    expect(w.p99(0)).toBeNull()
    for (let i = 0; i < 100; i++) w.add(1000 + i, i / 100)
    expect(w.p99(2000)).toBeCloseTo(0.99)
    expect(w.p99(1000 + 100 + 120_001)).toBeNull()
  })
})

describe('PartitionFilter', () => {
  it('blocks by actor, peer id or address, and heals', () => {
    const p = new PartitionFilter()
    p.learn('actor1', 'peerA', '/ip4/127.0.0.1/udp/9000/quic-v1/p2p/peerA')
    expect(p.active).toBe(false)
    p.block(['actor1'])
    expect(p.isBlocked('actor1')).toBe(true)
    expect(p.isBlocked('peerA')).toBe(true)
    expect(p.isAddrBlocked('/ip4/127.0.0.1/udp/9000/quic-v1/p2p/peerA')).toBe(true)
    expect(p.isAddrBlocked('/ip4/127.0.0.1/udp/9000/quic-v1')).toBe(true)
    expect(p.isAddrBlocked('/ip4/127.0.0.1/udp/9001/quic-v1/p2p/peerB')).toBe(false)
    p.heal()
    expect(p.isBlocked('actor1')).toBe(false)
  })
})

describe('member metadata', () => {
  it('round-trips and rejects garbage without throwing', () => {
    const m = { actor: 'ab'.repeat(16), peerId: '12D3KooW', clusterId: 3, api: '127.0.0.1:8080' }
    expect(decodeMemberMeta(encodeMemberMeta(m))).toEqual(m)
    expect(decodeMemberMeta(new Uint8Array([1, 2, 3]))).toBeUndefined()
    expect(decodeMemberMeta(new TextEncoder().encode('{"a":1}'))).toBeUndefined()
    expect(decodeMemberMeta(undefined)).toBeUndefined()
  })
})

describe('harness metrics parsing', () => {
  it('reads Prometheus text into samples and sums them by label', () => {
    const text = [
      '# HELP patina_changesets_applied_total x', '# TYPE patina_changesets_applied_total counter',
      'patina_changesets_applied_total{source="sync",result="new"} 5',
      'patina_changesets_applied_total{source="gossip",result="new"} 7',
      'patina_changesets_applied_total{source="gossip",result="known"} 2',
      'patina_sync_sessions_reused_total 3', 'garbage', ''
    ].join('\n')
    const m = parsePrometheus(text)
    expect(m.size).toBe(4)
    expect(sumSamples(m, 'patina_changesets_applied_total')).toBe(14)
    expect(sumSamples(m, 'patina_changesets_applied_total', { source: 'gossip' })).toBe(9)
    expect(sumSamples(m, 'patina_changesets_applied_total', { result: 'new' })).toBe(12)
    expect(sumSamples(m, 'patina_sync_sessions_reused_total')).toBe(3)
    expect(sumSamples(m, 'patina_sync_sessions_reused')).toBe(0)
  })
})

describe('adapters', () => {
  it('maps gossip counters onto Prometheus metrics', async () => {
    const m = createMetrics()
    const hook = gossipMetricsAdapter(m)
    hook.increment('gossip_payloads_sent', 3)
    hook.increment('gossip_payloads_dropped', 1, { reason: 'queue-full' })
    hook.increment('gossip_sync_rounds')
    hook.increment('gossip_sync_sessions_reused', 2)
    const text = await m.registry.metrics()
    expect(text).toMatch(/patina_gossip_sent_total 3/)
    expect(text).toMatch(/patina_gossip_dropped_total\{reason="queue-full"\} 1/)
    expect(text).toMatch(/patina_sync_rounds_total\{result="ok"\} 1/)
    expect(text).toMatch(/patina_sync_sessions_reused_total 2/)
  })

  it('formats human tables', () => {
    expect(formatTable(['id', 'name'], [[1, 'a'], [22, null]])).toBe('id  name\n--  ----\n1   a\n22  NULL\n')
  })
})

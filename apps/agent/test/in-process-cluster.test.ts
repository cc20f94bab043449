import { describe, it, expect, beforeAll, afterAll } from 'vitest'
import type { Agent } from '../src/agent.ts'
import { startAgents, post, eventually } from './support/in-process.ts'

const SCHEMA = 'CREATE TABLE todo (id INTEGER NOT NULL PRIMARY KEY, title TEXT, done INTEGER NOT NULL DEFAULT 0);\n'

describe('three agents in one process over real QUIC', () => {
  let agents: Agent[] = []
  let close: () => Promise<void> = async () => {}
  beforeAll(async () => {
    ({ agents, close } = await startAgents(3, SCHEMA))
    // membership: everyone sees everyone alive
    await eventually(() => agents.every(a => a.members().filter(m => m.state === 'alive').length === 3) ? true : undefined, 20_000, 'full membership')
  }, 60_000)
  afterAll(async () => { await close() })

  it('a write on one node is queryable on the others', async () => {
    const [a, b, c] = agents as [Agent, Agent, Agent]
    const res = await post(a, '/v1/transactions', [['INSERT INTO todo (id, title) VALUES (?, ?)', [1, 'write docs']]])
    expect(res.status).toBe(200)
    const body = await res.json() as { results: Array<{ rows_affected: number }> }
    expect(body.results[0]?.rows_affected).toBe(1)
    for (const node of [b, c]) {
      const rows = await eventually(async () => {
        const r = await post(node, '/v1/queries', 'SELECT id, title, done FROM todo')
        const lines = (await r.text()).trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>)
        const found = lines.filter(l => l.row !== undefined).map(l => (l.row as [number, unknown[]])[1])
        return found.length === 1 ? found : undefined
      }, 15_000, 'the row on another node')
      expect(rows).toEqual([[1, 'write docs', 0]])
    }
    expect(b.contentHash().hash).toBe(a.contentHash().hash)
  })

  it('a subscription on node B sees a write made on node A', async () => {
    const [a, b] = agents as [Agent, Agent]
    const abort = new AbortController()
    const res = await post(b, '/v1/subscriptions', 'SELECT id, title FROM todo WHERE done = 0', abort.signal)
    expect(res.status).toBe(200)
    expect(res.headers.get('corro-query-id')).toBeTruthy()
    const reader = res.body!.getReader()
    const decoder = new TextDecoder()
    const events: Array<Record<string, unknown>> = []
    let buf = ''
    const next = async (pred: (e: Record<string, unknown>) => boolean): Promise<Record<string, unknown>> => {
      const deadline = Date.now() + 15_000
      for (;;) {
        const i = events.findIndex(pred)
        if (i >= 0) return events.splice(i, 1)[0]!
        if (Date.now() > deadline) throw new Error(`no matching event; got ${JSON.stringify(events)}`)
        const { value, done } = await reader.read()
        if (done) throw new Error('stream ended')
        buf += decoder.decode(value, { stream: true })
        let nl
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim()
          buf = buf.slice(nl + 1)
          if (line !== '') events.push(JSON.parse(line) as Record<string, unknown>)
        }
      }
    }
    await next(e => e.eoq !== undefined)
    const w = await post(a, '/v1/transactions', [['INSERT INTO todo (id, title) VALUES (?, ?)', [2, 'from A']]])
    expect(w.status).toBe(200)
    const change = await next(e => e.change !== undefined)
    const [kind, , cells] = change.change as [string, number, unknown[], number]
    expect(kind).toBe('insert')
    expect(cells).toEqual([2, 'from A'])
    // rows are keyed by primary key: an update elsewhere is one `update` event for the same row id
    const rowId = (change.change as [string, number])[1]
    const u = await post(a, '/v1/transactions', [['UPDATE todo SET title = ? WHERE id = ?', ['renamed on A', 2]]])
    expect(u.status).toBe(200)
    const upd = await next(e => e.change !== undefined)
    expect(upd.change).toEqual(['update', rowId, [2, 'renamed on A'], (change.change as unknown[])[3] as number + 1])
    abort.abort()
  })

  it('cluster members, sync status and health figures are wired', async () => {
    const [a] = agents as [Agent]
    const res = await fetch(`http://${a.listening.api[0]}/v1/cluster/members`)
    expect(res.status).toBe(200)
    const health = await fetch(`http://${a.listening.api[0]}/v1/health?gaps=0`)
    const h = await health.json() as { response?: { gaps: number; members: number } }
    // Peers only (this node excluded), as Corrosion counts members; absent when no lag sample exists yet.
    expect(h.response?.members ?? 2).toBe(2)
    expect(a.gapCount()).toBe(0)
    expect(Array.isArray(a.syncStatus())).toBe(true)
  })

  it('a write sent as a query is refused as not readonly and writes nothing', async () => {
    const [a] = agents as [Agent]
    const before = a.contentHash()
    const res = await post(a, '/v1/queries', 'DELETE FROM todo')
    expect(res.status).toBe(400)
    expect(await res.text()).toMatch(/not read-?only|could write/)
    expect(a.contentHash()).toEqual(before)
  })

  it('a write of an unknown table is a clear error and nothing is written', async () => {
    const [a] = agents as [Agent]
    const before = a.contentHash()
    const res = await post(a, '/v1/transactions', ['INSERT INTO todo (id, title) VALUES (99, \'x\')', 'INSERT INTO nope VALUES (1)'])
    expect(res.status).toBeGreaterThanOrEqual(400)
    expect(JSON.stringify(await res.json())).toMatch(/nope/)
    expect(a.contentHash()).toEqual(before)
  })
})

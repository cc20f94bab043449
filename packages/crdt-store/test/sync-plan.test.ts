import { describe, expect, it } from 'vitest'
import type { Book } from '../src/bookkeeping.ts'
import { computeNeeds, summarize } from '../src/sync-plan.ts'

const A = new Uint8Array(16).fill(0xa)
const B = new Uint8Array(16).fill(0xb)
const hexA = Buffer.from(A).toString('hex')

function book (head: number, gaps: [number, number][], partials: [number, [number, number][], number][] = []): Map<string, Book> {
  return new Map([[hexA, { ord: 1, siteId: A, hex: hexA, head, gaps, partials: new Map(partials.map(([v, seqs, lastSeq]) => [v, { seqs, lastSeq, ts: 0n }])) }]])
}

describe('computeNeeds (pure)', () => {
  it('asks for versions above our head and inside our gaps that the remote holds whole', () => {
    const remote = { actors: [{ actor: A, head: 10, gaps: [[4, 4]] as [number, number][], partials: [] }] }
    expect(computeNeeds(book(6, [[2, 3]]), remote).actors).toEqual([{ actor: A, full: [[2, 3], [7, 10]], partial: [] }])
    expect(computeNeeds(new Map(), remote).actors).toEqual([{ actor: A, full: [[1, 3], [5, 10]], partial: [] }])
    expect(computeNeeds(book(10, []), remote).actors).toEqual([])
  })
  it('asks only for missing seqs of versions we hold in part', () => {
    const remote = { actors: [{ actor: A, head: 5, gaps: [[5, 5]] as [number, number][], partials: [{ version: 5, seqs: [[0, 9]] as [number, number][], lastSeq: 20 }] }] }
    const mine = book(5, [[3, 3], [5, 5]], [[3, [[0, 4]], 8], [5, [[5, 12]], 20]])
    expect(computeNeeds(mine, remote).actors).toEqual([{ actor: A, full: [], partial: [{ version: 3, seqs: [[5, 8]] }, { version: 5, seqs: [[0, 4]] }] }])
  })
  it('asks for a remote partial we lack entirely; ignores actors with nothing', () => {
    const remote = { actors: [{ actor: A, head: 2, gaps: [[2, 2]] as [number, number][], partials: [{ version: 2, seqs: [[0, 3]] as [number, number][], lastSeq: 7 }] }, { actor: B, head: 0, gaps: [], partials: [] }] }
    expect(computeNeeds(book(1, []), remote).actors).toEqual([{ actor: A, full: [], partial: [{ version: 2, seqs: [[0, 3]] }] }])
  })
  it('summarize lists actors with something, partials sorted', () => {
    const b = book(5, [[5, 5]], [[5, [[0, 1]], 3]])
    expect(summarize(b.values())).toEqual({ actors: [{ actor: A, head: 5, gaps: [[5, 5]], partials: [{ version: 5, seqs: [[0, 1]], lastSeq: 3 }] }] })
  })
})

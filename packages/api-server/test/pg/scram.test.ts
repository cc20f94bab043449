import { describe, expect, it } from 'vitest'
import { scramCredentials, scramServer } from '../../src/pg/scram.ts'

// RFC 7677 §3 example exchange (user "user", password "pencil").
const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64')
const clientFirst = 'n,,n=user,r=rOprNGfwEbeRWgbNEkqO'
const serverNonce = '%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0'
const clientFinal = 'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='

describe('SCRAM-SHA-256 server', () => {
  it('reproduces the RFC 7677 exchange', () => {
    const s = scramServer({ credentials: scramCredentials('pencil', salt, 4096), serverNonce })
    expect(s.first(clientFirst)).toBe('r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096')
    expect(s.final(clientFinal)).toBe('v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=')
  })

  it('rejects the proof of a wrong password', () => {
    const s = scramServer({ credentials: scramCredentials('not-pencil', salt, 4096), serverNonce })
    s.first(clientFirst)
    expect(() => s.final(clientFinal)).toThrow(expect.objectContaining({ name: 'PgAuthError' }))
  })

  it('rejects a tampered nonce, channel binding and malformed messages', () => {
    const creds = scramCredentials('pencil', salt, 4096)
    const a = scramServer({ credentials: creds, serverNonce })
    a.first(clientFirst)
    expect(() => a.final(clientFinal.replace('r=rOpr', 'r=XOpr'))).toThrow(/nonce/)
    const b = scramServer({ credentials: creds, serverNonce })
    b.first(clientFirst)
    expect(() => b.final(clientFinal.replace('c=biws', 'c=eSws'))).toThrow(/channel binding/)
    const c = scramServer({ credentials: creds, serverNonce })
    expect(() => c.first('garbage')).toThrow(expect.objectContaining({ name: 'PgAuthError' }))
    expect(() => c.final(clientFinal)).toThrow(/before the first/)
    expect(() => scramServer({ credentials: creds, serverNonce }).first('p=tls-server-end-point,,n=u,r=x')).toThrow(/channel binding/)
  })
})

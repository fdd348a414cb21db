// ID tokens: at_hash (OIDC Core §3.1.3.6), the claims plusid signs (OIDC Core §2), and the
// verification of tokens presented back to plusid (RFC 8725 §2.1, §3.1: the algorithm is the
// channel's, never the token's; §3.10: no key named by the token itself; OIDC Core §3.1.3.7:
// iss, aud, exp). No HTTP, no database: the key store is a stand-in holding one ES256 key.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, type CryptoKey } from 'jose'
import { createPrivateKey, type KeyObject } from 'node:crypto'
import { seal } from '../../src/crypto/secret-box.ts'
import {
  accessTokenHash,
  IdTokenError,
  signIdToken,
  verifyIdToken,
  type IdTokenCheck,
  type IdTokenProblem,
} from '../../src/oauth/id-token.ts'
import type { KeyStore } from '../../src/oauth/keys.ts'
import { webChannel } from './channel.ts'

const ISSUER = 'https://id.example'
const MASTER_KEY = Buffer.alloc(32, 1)
const NOW = new Date('2026-12-01T00:00:00Z')
const SECRET = 'hs256-channel-secret'
const es256Channel = webChannel({ idTokenAlg: 'ES256' })
const hs256Channel = webChannel({
  id: '3234567890',
  idTokenAlg: 'HS256',
  secretEncrypted: seal(MASTER_KEY, SECRET, 'channel-secret:3234567890'),
})

async function keyStore(): Promise<{ keys: KeyStore; privateKey: KeyObject; cryptoKey: CryptoKey }> {
  const pair = await generateKeyPair('ES256', { extractable: true })
  const privateKey = createPrivateKey({ key: (await exportJWK(pair.privateKey)) as import('node:crypto').JsonWebKey, format: 'jwk' })
  // The two methods id-token.ts uses, over one key: the real KeyStore reads them from the database.
  const keys = {
    signingKey: () => ({ kid: 'kid-1', alg: 'ES256' as const, privateKey }),
    publicKey: (kid: string) => (kid === 'kid-1' ? { alg: 'ES256' as const, key: pair.publicKey } : undefined),
  } as unknown as KeyStore
  return { keys, privateKey, cryptoKey: pair.privateKey }
}

function input(channel = es256Channel, overrides = {}) {
  return {
    issuer: ISSUER,
    channel,
    sub: 'U' + '0'.repeat(32),
    authTime: new Date(NOW.getTime() - 60_000),
    amr: ['pwd'],
    nonce: 'n-1',
    accessToken: null,
    claims: { name: 'Hanako' },
    now: NOW,
    ...overrides,
  }
}

async function problem(token: string, check: IdTokenCheck): Promise<IdTokenProblem> {
  try {
    await verifyIdToken(token, check)
  } catch (error) {
    assert.ok(error instanceof IdTokenError, String(error))
    return error.problem
  }
  assert.fail('the token was accepted')
}

test('OIDC Core §3.1.3.6: at_hash is base64url of the left half of SHA-256 of the access token', () => {
  // The example of OIDC Core Appendix A.3.
  assert.equal(accessTokenHash('jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y'), '77QmUPtjPfzWtF2AnpK9RQ')
})

test('OIDC Core §2: a signed ID token carries iss, sub, aud, exp (1 h), iat, auth_time, nonce, amr and the claims', async () => {
  const { keys } = await keyStore()
  const token = await signIdToken(keys, MASTER_KEY, input(es256Channel, { accessToken: 'jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y' }))
  assert.deepEqual(decodeProtectedHeader(token), { typ: 'JWT', kid: 'kid-1', alg: 'ES256' })
  const iat = NOW.getTime() / 1000
  assert.deepEqual(decodeJwt(token), {
    iss: ISSUER,
    sub: 'U' + '0'.repeat(32),
    aud: es256Channel.id,
    exp: iat + 3600,
    iat,
    auth_time: iat - 60,
    nonce: 'n-1',
    amr: ['pwd'],
    at_hash: '77QmUPtjPfzWtF2AnpK9RQ',
    name: 'Hanako',
  })
})

test('no nonce in the request, no nonce in the token (OIDC Core §2)', async () => {
  const { keys } = await keyStore()
  assert.equal('nonce' in decodeJwt(await signIdToken(keys, MASTER_KEY, input(es256Channel, { nonce: null }))), false)
})

test('ES256 and HS256 tokens plusid signed verify against their channel', async () => {
  const { keys } = await keyStore()
  for (const channel of [es256Channel, hs256Channel]) {
    const token = await signIdToken(keys, MASTER_KEY, input(channel))
    const payload = await verifyIdToken(token, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel, now: NOW })
    assert.equal(payload.aud, channel.id)
    assert.equal(decodeProtectedHeader(token).kid, channel.idTokenAlg === 'HS256' ? undefined : 'kid-1')
  }
})

test("RFC 8725 §3.1: the channel's algorithm decides, not the token's header", async () => {
  const { keys } = await keyStore()
  // An HS256 token presented for an ES256 channel (keyed with anything) is refused, and the reverse.
  const hs = await signIdToken(keys, MASTER_KEY, input(hs256Channel))
  assert.equal(
    await problem(hs, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: { ...hs256Channel, idTokenAlg: 'ES256' }, now: NOW }),
    'signature',
  )
  const es = await signIdToken(keys, MASTER_KEY, input(es256Channel))
  assert.equal(
    await problem(es, {
      issuer: ISSUER,
      keys,
      masterKey: MASTER_KEY,
      channel: { ...es256Channel, idTokenAlg: 'HS256', secretEncrypted: hs256Channel.secretEncrypted, id: hs256Channel.id },
      now: NOW,
    }),
    'signature',
  )
  // alg "none" (RFC 7519 §6) is never a signature.
  const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify(decodeJwt(es))).toString('base64url')}.`
  assert.equal(await problem(unsigned, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: es256Channel, now: NOW }), 'signature')
})

test('RFC 8725 §3.10: a token naming its own key (jwk, jku, x5u, x5c) is refused before any key is looked at', async () => {
  const { keys, cryptoKey } = await keyStore()
  const jwk = await exportJWK(cryptoKey)
  const token = await new SignJWT({ sub: 'U1' })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'kid-1', jwk: { kty: jwk.kty!, crv: jwk.crv!, x: jwk.x!, y: jwk.y! } })
    .setIssuer(ISSUER)
    .setAudience(es256Channel.id)
    .setIssuedAt(NOW)
    .setExpirationTime(new Date(NOW.getTime() + 3_600_000))
    .sign(cryptoKey)
  assert.equal(await problem(token, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: es256Channel, now: NOW }), 'signature')
})

test('OIDC Core §3.1.3.7: iss, aud and exp are checked; an expired token passes only where allowed', async () => {
  const { keys } = await keyStore()
  const token = await signIdToken(keys, MASTER_KEY, input(es256Channel))
  const check = { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: es256Channel, now: NOW }
  assert.equal(await problem(token, { ...check, issuer: 'https://other.example' }), 'issuer')
  assert.equal(await problem(token, { ...check, channel: { ...es256Channel, id: '9999999999' } }), 'audience')
  const later = new Date(NOW.getTime() + 2 * 3_600_000)
  assert.equal(await problem(token, { ...check, now: later }), 'expired')
  assert.equal((await verifyIdToken(token, { ...check, now: later, allowExpired: true })).sub, 'U' + '0'.repeat(32))
})

test('a channel looked up by aud is trusted only once its key verified the token', async () => {
  const { keys } = await keyStore()
  const token = await signIdToken(keys, MASTER_KEY, input(es256Channel))
  const lookups: string[] = []
  const byAud = async (aud: string) => {
    lookups.push(aud)
    return aud === es256Channel.id ? es256Channel : undefined
  }
  assert.equal((await verifyIdToken(token, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: byAud, now: NOW })).aud, es256Channel.id)
  assert.deepEqual(lookups, [es256Channel.id])
  assert.equal(await problem(token, { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: async () => undefined, now: NOW }), 'signature')
  assert.equal(await problem('not.a.token', { issuer: ISSUER, keys, masterKey: MASTER_KEY, channel: byAud, now: NOW }), 'malformed')
})

// Compact JWS signing (RFC 7515 §7.1) with node:crypto: the three algorithms plusid issues
// (RFC 7518 §3.2 HS256, §3.3 RS256, §3.4 ES256 with the signature as R || S), checked by jose as
// any relying party would check them. No HTTP, no database.
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { test } from 'node:test'
import { compactVerify, decodeProtectedHeader } from 'jose'
import { signCompactJws } from '../../src/oauth/jws.ts'

const payload = { sub: 'U0123', iat: 1_700_000_000 }

test('RFC 7518 §3.4: ES256 signatures are R || S (64 bytes) and verify', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const jws = signCompactJws({ typ: 'JWT', kid: 'k1' }, payload, { alg: 'ES256', privateKey })
  assert.equal(Buffer.from(jws.split('.')[2]!, 'base64url').length, 64)
  const { payload: verified, protectedHeader } = await compactVerify(jws, publicKey, { algorithms: ['ES256'] })
  assert.deepEqual(JSON.parse(Buffer.from(verified).toString()), payload)
  assert.deepEqual(protectedHeader, { typ: 'JWT', kid: 'k1', alg: 'ES256' })
})

test('RFC 7518 §3.3: RS256 signatures verify', async () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jws = signCompactJws({ typ: 'JWT' }, payload, { alg: 'RS256', privateKey })
  await compactVerify(jws, publicKey, { algorithms: ['RS256'] })
})

test('RFC 7518 §3.2: HS256 signatures verify with the shared secret and not with another', async () => {
  const secret = new TextEncoder().encode('channel-secret-0123456789abcdef')
  const jws = signCompactJws({ typ: 'JWT' }, payload, { alg: 'HS256', secret })
  await compactVerify(jws, secret, { algorithms: ['HS256'] })
  await assert.rejects(compactVerify(jws, new TextEncoder().encode('another-secret-0123456789abcdef'), { algorithms: ['HS256'] }))
})

test("the header names the key's algorithm, whatever alg the caller put in it", () => {
  const secret = new Uint8Array(32)
  const jws = signCompactJws({ typ: 'JWT', alg: 'none' }, payload, { alg: 'HS256', secret })
  assert.equal(decodeProtectedHeader(jws).alg, 'HS256')
})

// Forged and malformed JWTs at every endpoint that accepts one. RFC 8725 (JWT BCP) §2 (the
// attacks: alg none, algorithm confusion, substitution) and §3.1–3.3, 3.8–3.11 (pin algorithms,
// validate every key, issuer, audience, typ); OIDC Core §3.1.3.7 (ID token validation) and §16.3
// (signatures); RFC 7515 §4.1.3 / §4.1.5 (a `jwk` or `jku` header must not choose the key).
//
// plusid accepts JWTs in three places: POST /oauth2/v2.1/verify (LINE's ID-token verify: 400
// invalid_request with LINE's texts), id_token_hint at /oauth2/v2.1/authorize (the OIDC error by
// redirect to the verified callback) and at /oauth2/v2.1/logout (an error page). Channel access
// tokens from /oauth2/v3/token are opaque, not JWTs. Each forgery is tested against all three,
// next to a control token made the same way but honestly, which all three accept — so every
// refusal below is the defence's doing, not a broken test token.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, UnsecuredJWT, type JWTPayload, type JWTHeaderParameters } from 'jose'
import { build, testKeys } from '../helpers/app.ts'
import { testDatabase } from '../helpers/database.ts'
import { CALLBACK, createTestChannel, type TestChannel } from '../helpers/oidc.ts'

await testDatabase()
const ISSUER = 'http://localhost:3000'
const keys = await testKeys()
const attacker = await generateKeyPair('ES256', { extractable: true })
const attackerJwk = await exportJWK(attacker.publicKey)

const b64 = (value: string | object) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')
const now = () => Math.floor(Date.now() / 1000)

/** The claims plusid puts in an ID token for `channel`, with `overrides`. */
function claims(channel: TestChannel, overrides: Record<string, unknown> = {}): JWTPayload {
  return {
    iss: ISSUER,
    sub: `U${'a'.repeat(32)}`,
    aud: channel.channelId,
    exp: now() + 600,
    iat: now(),
    auth_time: now(),
    amr: ['pwd'],
    ...overrides,
  }
}

/** Signed as plusid signs: the channel's algorithm with the current key (or the channel secret for HS256). */
async function honest(
  channel: TestChannel & { alg: 'ES256' | 'RS256' | 'HS256' },
  payload: JWTPayload,
  header: Partial<JWTHeaderParameters> = {},
): Promise<string> {
  if (channel.alg === 'HS256')
    return new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT', ...header }).sign(new TextEncoder().encode(channel.secret!))
  const key = keys.signingKey(channel.alg)
  return new SignJWT(payload).setProtectedHeader({ alg: key.alg, typ: 'JWT', kid: key.kid, ...header }).sign(key.privateKey)
}

interface Answers {
  verify: { status: number; body: { error?: string; error_description?: string } }
  authorize: { status: number; location: URL | null }
  logout: { status: number; location: string | undefined; body: string }
}

/** What each of the three endpoints answers to `token`, as a hint or an ID token for `channel`. */
async function present(app: FastifyInstance, channel: TestChannel, token: string): Promise<Answers> {
  const verify = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/verify',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ id_token: token, client_id: channel.channelId }).toString(),
  })
  const authorize = await app.inject({
    method: 'GET',
    url: `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channel.channelId, redirect_uri: channel.redirectUri, scope: 'openid profile', state: 'st', nonce: 'n', id_token_hint: token })}`,
  })
  const logout = await app.inject({
    method: 'GET',
    url: `/oauth2/v2.1/logout?${new URLSearchParams({ id_token_hint: token, client_id: channel.channelId, post_logout_redirect_uri: channel.redirectUri, state: 'bye' })}`,
  })
  for (const [name, response] of Object.entries({ verify, authorize, logout }))
    assert.ok(response.statusCode < 500, `${name} answered ${response.statusCode}: ${response.body}`)
  return {
    verify: { status: verify.statusCode, body: verify.json() },
    authorize: {
      status: authorize.statusCode,
      location: authorize.headers.location ? new URL(String(authorize.headers.location), ISSUER) : null,
    },
    logout: { status: logout.statusCode, location: logout.headers.location as string | undefined, body: logout.body },
  }
}

function assertAccepted(answers: Answers, label: string) {
  assert.equal(answers.verify.status, 200, `${label}: verify ${JSON.stringify(answers.verify.body)}`)
  // No session: the hint is valid, so the login page is next.
  assert.equal(answers.authorize.status, 303, `${label}: authorize`)
  assert.match(answers.authorize.location!.pathname, /^\/interaction\//, `${label}: authorize`)
  assert.equal(answers.logout.status, 303, `${label}: logout`)
  assert.equal(answers.logout.location, 'https://rp.example.com/callback?state=bye', `${label}: logout`)
}

/** Refused by all three: LINE's text at verify, invalid_request to the callback, an error page at logout. */
function assertRefused(answers: Answers, verifyDescription: string, label: string) {
  assert.equal(answers.verify.status, 400, label)
  assert.deepEqual(answers.verify.body, { error: 'invalid_request', error_description: verifyDescription }, label)
  assert.equal(answers.authorize.status, 302, `${label}: authorize redirects the error to the verified callback`)
  assert.equal(answers.authorize.location!.origin + answers.authorize.location!.pathname, 'https://rp.example.com/callback', label)
  assert.equal(answers.authorize.location!.searchParams.get('error'), 'invalid_request', label)
  assert.equal(
    answers.authorize.location!.searchParams.get('error_description'),
    'id_token_hint is not a valid ID token of this server',
    label,
  )
  assert.equal(answers.authorize.location!.searchParams.get('state'), 'st', label)
  assert.equal(answers.authorize.location!.searchParams.get('code'), null, label)
  assert.equal(answers.logout.status, 400, `${label}: logout`)
  assert.equal(answers.logout.location, undefined, `${label}: logout sends nobody anywhere`)
  assert.match(answers.logout.body, /This logout request cannot be completed/, label)
}

async function setup(t: Parameters<typeof build>[0]) {
  const app = await build(t)
  const channels = {
    es: { ...(await createTestChannel({ idTokenAlg: 'ES256', logoutUrls: [CALLBACK] })), alg: 'ES256' as const },
    rs: { ...(await createTestChannel({ idTokenAlg: 'RS256', logoutUrls: [CALLBACK] })), alg: 'RS256' as const },
    hs: { ...(await createTestChannel({ idTokenAlg: 'HS256', logoutUrls: [CALLBACK] })), alg: 'HS256' as const },
  }
  for (const [name, channel] of Object.entries(channels))
    assertAccepted(await present(app, channel, await honest(channel, claims(channel))), `control (${name})`)
  return { app, ...channels }
}

test('alg none: an unsigned token is refused', async (t) => {
  const { app, es, rs, hs } = await setup(t)
  for (const channel of [es, rs, hs]) {
    const unsigned = new UnsecuredJWT(claims(channel)).encode()
    assertRefused(await present(app, channel, unsigned), 'Invalid IdToken.', `alg none (${channel.alg})`)
    // The same with a kid and typ, and with "None"/"NONE" spellings.
    for (const alg of ['none', 'None', 'NONE']) {
      const token = `${b64({ alg, typ: 'JWT', kid: keys.signingKey('ES256').kid })}.${b64(claims(channel))}.`
      assertRefused(await present(app, channel, token), 'Invalid IdToken.', `alg ${alg} (${channel.alg})`)
    }
  }
})

test('algorithm confusion: HS256 keyed with the public key or the channel secret, for an ES256 or RS256 channel', async (t) => {
  const { app, es, rs } = await setup(t)
  for (const channel of [es, rs]) {
    const published = JSON.parse(keys.jwks().body).keys.find((k: { kid: string }) => k.kid === keys.signingKey(channel.alg).kid)
    const publicKeyObject = (await import('node:crypto')).createPublicKey({ key: published, format: 'jwk' })
    const candidates = {
      'the JWK as JSON': new TextEncoder().encode(JSON.stringify(published)),
      'the PEM public key': new TextEncoder().encode(await exportSPKI(publicKeyObject)),
      'the channel secret': new TextEncoder().encode(channel.secret!),
    }
    for (const [what, secret] of Object.entries(candidates)) {
      const token = await new SignJWT(claims(channel)).setProtectedHeader({ alg: 'HS256', typ: 'JWT', kid: published.kid }).sign(secret)
      assertRefused(await present(app, channel, token), 'Invalid IdToken.', `HS256 with ${what} (${channel.alg} channel)`)
    }
  }
})

test("the channel's algorithm only: a token plusid could have signed, in another algorithm than the channel's, is refused", async (t) => {
  const { app, es, rs, hs } = await setup(t)
  // Signed with plusid's own published RS256 key, for an ES256 channel; and the other way round.
  assertRefused(await present(app, es, await honest(rs, claims(es))), 'Invalid IdToken.', 'RS256 for an ES256 channel')
  assertRefused(await present(app, rs, await honest(es, claims(rs))), 'Invalid IdToken.', 'ES256 for an RS256 channel')
  // An HS256 channel takes HS256 only, even when plusid's own ES256 key signed the token.
  assertRefused(await present(app, hs, await honest(es, claims(hs))), 'Invalid IdToken.', 'ES256 for an HS256 channel')
})

test('an unknown kid is refused, and so is a known kid on a token the attacker signed', async (t) => {
  const { app, es } = await setup(t)
  const unknownKid = await new SignJWT(claims(es))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: 'f'.repeat(64) })
    .sign(attacker.privateKey)
  assertRefused(await present(app, es, unknownKid), 'Invalid IdToken.', 'unknown kid')
  const noKid = await new SignJWT(claims(es)).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(attacker.privateKey)
  assertRefused(await present(app, es, noKid), 'Invalid IdToken.', 'no kid')
  const borrowedKid = await new SignJWT(claims(es))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: keys.signingKey('ES256').kid })
    .sign(attacker.privateKey)
  assertRefused(await present(app, es, borrowedKid), 'Invalid IdToken.', "plusid's kid, the attacker's signature")
})

test("an embedded jwk header with the attacker's key is refused", async (t) => {
  const { app, es } = await setup(t)
  const embedded = await new SignJWT(claims(es))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jwk: attackerJwk })
    .sign(attacker.privateKey)
  assertRefused(await present(app, es, embedded), 'Invalid IdToken.', 'jwk header')
  // Even next to plusid's own kid and signature: plusid never issues a jwk header.
  const alongside = await honest(es, claims(es), { jwk: attackerJwk })
  assertRefused(await present(app, es, alongside), 'Invalid IdToken.', 'jwk header beside a real signature')
})

test('a jku header pointing elsewhere is refused', async (t) => {
  const { app, es } = await setup(t)
  const jku = await new SignJWT(claims(es))
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', jku: 'https://evil.example/jwks.json', kid: 'evil' })
    .sign(attacker.privateKey)
  assertRefused(await present(app, es, jku), 'Invalid IdToken.', 'jku header')
  const x5u = await honest(es, claims(es), { x5u: 'https://evil.example/cert.pem' })
  assertRefused(await present(app, es, x5u), 'Invalid IdToken.', 'x5u header beside a real signature')
  const alongside = await honest(es, claims(es), { jku: `${ISSUER}/oauth2/v2.1/certs` })
  assertRefused(await present(app, es, alongside), 'Invalid IdToken.', 'jku header beside a real signature')
})

test('a token for another audience is refused', async (t) => {
  const { app, es, hs } = await setup(t)
  const other = { ...(await createTestChannel({ idTokenAlg: 'ES256' })), alg: 'ES256' as const }
  // Honestly signed for another channel, presented as this channel's.
  const forOther = await honest(other, claims(other))
  const answers = await present(app, es, forOther)
  assertRefused(answers, 'Invalid IdToken Audience.', 'aud of another channel')
  // An audience that is no channel at all, or the issuer itself.
  for (const aud of ['someone-else', ISSUER])
    assertRefused(await present(app, es, await honest(es, claims(es, { aud }))), 'Invalid IdToken.', `aud ${aud}`)
  // An HS256 token of one channel, presented for another HS256 channel.
  const hs2 = { ...(await createTestChannel({ idTokenAlg: 'HS256' })), alg: 'HS256' as const }
  assertRefused(await present(app, hs, await honest(hs2, claims(hs2))), 'Invalid IdToken Audience.', 'HS256 token of another channel')
})

test('a token from another issuer is refused', async (t) => {
  const { app, es, hs } = await setup(t)
  for (const iss of ['https://evil.example', 'https://access.line.me', `${ISSUER}/`]) {
    assertRefused(await present(app, es, await honest(es, claims(es, { iss }))), 'Invalid IdToken Issuer.', `iss ${iss} (ES256)`)
    assertRefused(await present(app, hs, await honest(hs, claims(hs, { iss }))), 'Invalid IdToken Issuer.', `iss ${iss} (HS256)`)
  }
  const withoutIss = claims(es)
  delete withoutIss.iss
  assertRefused(await present(app, es, await honest(es, withoutIss)), 'Invalid IdToken.', 'no iss')
})

test('an expired token is refused at verify; as a hint it still names the user (OIDC Core §3.1.2.1, RP-Initiated Logout §2)', async (t) => {
  const { app, es, hs } = await setup(t)
  for (const channel of [es, hs]) {
    const expired = await honest(channel, claims(channel, { exp: now() - 10, iat: now() - 3610 }))
    const answers = await present(app, channel, expired)
    assert.equal(answers.verify.status, 400)
    assert.deepEqual(answers.verify.body, { error: 'invalid_request', error_description: 'IdToken expired.' })
    assert.match(answers.authorize.location!.pathname, /^\/interaction\//, 'an expired hint is still a hint')
    assert.equal(answers.logout.status, 303, 'logout accepts an expired ID token')
    // But expired and forged is forged.
    const [head, body] = expired.split('.')
    const resigned = `${head}.${body}.${(await new SignJWT(claims(channel)).setProtectedHeader({ alg: 'ES256' }).sign(attacker.privateKey)).split('.')[2]}`
    assertRefused(await present(app, channel, resigned), 'Invalid IdToken.', `expired with a foreign signature (${channel.alg})`)
  }
})

test('a tampered payload (the signature no longer matches) is refused', async (t) => {
  const { app, es, rs, hs } = await setup(t)
  for (const channel of [es, rs, hs]) {
    const [head, , signature] = (await honest(channel, claims(channel))).split('.')
    const changed = `${head}.${b64(claims(channel, { sub: `U${'b'.repeat(32)}` }))}.${signature}`
    assertRefused(await present(app, channel, changed), 'Invalid IdToken.', `changed sub (${channel.alg})`)
    const flipped = `${head}.${b64(claims(channel))}.${signature!.startsWith('A') ? 'B' : 'A'}${signature!.slice(1)}`
    assertRefused(await present(app, channel, flipped), 'Invalid IdToken.', `changed signature (${channel.alg})`)
    assertRefused(await present(app, channel, `${head}.${b64(claims(channel))}.`), 'Invalid IdToken.', `signature removed (${channel.alg})`)
  }
})

test('malformed tokens are refused: not three parts, bad base64, not JSON', async (t) => {
  const { app, es } = await setup(t)
  const real = await honest(es, claims(es))
  const [head, body, signature] = real.split('.') as [string, string, string]
  const malformed = {
    'one part': head,
    'two parts': `${head}.${body}`,
    'four parts': `${real}.${signature}`,
    'five parts (JWE shape)': `${head}.${body}.${signature}.${signature}.${signature}`,
    'bad base64 in the header': `${head}!*.${body}.${signature}`,
    'bad base64 in the payload': `${head}.${body}%%.${signature}`,
    'header not JSON': `${b64('not json')}.${body}.${signature}`,
    'payload not JSON': `${head}.${b64('not json')}.${signature}`,
    'payload a JSON array': `${head}.${b64('[1,2]')}.${signature}`,
    'header a JSON string': `${b64('"ES256"')}.${body}.${signature}`,
    'empty parts': '..',
    whitespace: ` ${real} `,
    'long garbage': `${head}.${'A'.repeat(6000)}.${signature}`,
  }
  for (const [what, token] of Object.entries(malformed)) assertRefused(await present(app, es, token), 'Invalid IdToken.', what)
})

test('claims of the wrong type are refused', async (t) => {
  const { app, es, hs } = await setup(t)
  const wrong: Record<string, Record<string, unknown>> = {
    'aud a number': { aud: 1234567890 },
    'aud an array': { aud: [es.channelId] },
    'exp a string': { exp: String(now() + 600) },
    'iat a string': { iat: String(now()) },
    'sub a number': { sub: 12345 },
    'sub an object': { sub: { id: 'x' } },
    'exp missing': { exp: undefined },
    'sub missing': { sub: undefined },
  }
  for (const channel of [es, hs]) {
    for (const [what, overrides] of Object.entries(wrong)) {
      const payload = Object.fromEntries(Object.entries(claims(channel, overrides)).filter(([, value]) => value !== undefined))
      if (what === 'aud an array') payload.aud = [channel.channelId]
      assertRefused(await present(app, channel, await honest(channel, payload)), 'Invalid IdToken.', `${what} (${channel.alg})`)
    }
  }
})

test('a JWT of another type (typ) is refused', async (t) => {
  const { app, es } = await setup(t)
  for (const typ of ['at+jwt', 'logout+jwt', undefined]) {
    const token =
      typ === undefined
        ? await new SignJWT(claims(es))
            .setProtectedHeader({ alg: 'ES256', kid: keys.signingKey('ES256').kid })
            .sign(keys.signingKey('ES256').privateKey)
        : await honest(es, claims(es), { typ })
    assertRefused(await present(app, es, token), 'Invalid IdToken.', `typ ${typ}`)
  }
})

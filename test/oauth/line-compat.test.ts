// plusid spoken "the LINE way": what passport-line-auth or a hand-written LINE Login v2.1 client
// sends — plain fetch, form bodies with client_id + client_secret, no OIDC library — and what such
// a client reads back (LINE Login v2.1; docs/protocol.md where plusid differs).
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { decodeJwt, decodeProtectedHeader, jwtVerify } from 'jose'
import { testDatabase } from '../helpers/database.ts'
import {
  authorizeInBrowser,
  createTestChannel,
  createTestUser,
  startServer,
  WebBrowser,
  type TestChannel,
  type TestUser,
} from '../helpers/oidc.ts'

// The file's database, opened at the top level so that it outlives every test.
await testDatabase()

const ACCESS_TOKEN_TTL = 2592000
const SUB = /^U[0-9a-f]{32}$/

// ---------------------------------------------------------------------------------------------
// Helpers: a LINE client written by hand.

/** Query string as passport-oauth2 builds it: every value percent-encoded, spaces as %20. */
function query(params: Record<string, string | undefined>): string {
  return Object.entries(params)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([name, value]) => `${encodeURIComponent(name)}=${encodeURIComponent(value)}`)
    .join('&')
}

function randomString(): string {
  return randomBytes(16).toString('hex')
}

interface AuthorizeParams {
  response_type?: string | undefined
  client_id?: string | undefined
  redirect_uri?: string | undefined
  state?: string | undefined
  scope?: string | undefined
  nonce?: string | undefined
  [name: string]: string | undefined
}

/** The LINE authorize parameters for a channel; `overrides` replace (or, set to undefined, drop) them. */
function authorizeParams(channel: TestChannel, overrides: AuthorizeParams = {}): Record<string, string | undefined> {
  return {
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    state: randomString(),
    scope: 'profile openid',
    nonce: randomString(),
    ...overrides,
  }
}

function authorizeUrl(issuer: string, params: Record<string, string | undefined>): string {
  return `${issuer}/oauth2/v2.1/authorize?${query(params)}`
}

function form(fields: Record<string, string | undefined>): string {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) if (value !== undefined) body.append(name, value)
  return body.toString()
}

async function postForm(url: string, fields: Record<string, string | undefined>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: form(fields) })
}

function basic(clientId: string, secret: string): string {
  return `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`).toString('base64')}`
}

interface LineTokens {
  access_token: string
  token_type: string
  refresh_token: string
  expires_in: number
  scope: string
  id_token?: string
}

/** Walks the browser through login and consent; returns the callback URL reached. */
async function getCallback(
  issuer: string,
  user: TestUser,
  params: Record<string, string | undefined>,
  browser = new WebBrowser(),
): Promise<URL> {
  const callback = await authorizeInBrowser(browser, issuer, authorizeUrl(issuer, params), { user })
  assert.equal(callback.origin + callback.pathname, params.redirect_uri, `left plusid for ${callback.href}`)
  assert.equal(callback.searchParams.get('error'), null, `authorization failed: ${callback.href}`)
  return callback
}

/** A code for the channel, with the state and nonce it was asked with. */
async function getCode(
  issuer: string,
  channel: TestChannel,
  user: TestUser,
  overrides: AuthorizeParams = {},
  browser?: WebBrowser,
): Promise<{ code: string; state: string | undefined; nonce: string | undefined; callback: URL }> {
  const params = authorizeParams(channel, overrides)
  const callback = await getCallback(issuer, user, params, browser)
  const code = callback.searchParams.get('code')
  assert.ok(code, `no code in ${callback.href}`)
  assert.equal(callback.searchParams.get('state'), params.state ?? null)
  assert.equal(callback.searchParams.get('iss'), issuer)
  return { code, state: params.state, nonce: params.nonce, callback }
}

/** The token call passport-oauth2 makes: everything in the form body (client_secret_post). */
async function exchangeCode(issuer: string, channel: TestChannel, code: string, redirectUri = channel.redirectUri): Promise<Response> {
  return postForm(`${issuer}/oauth2/v2.1/token`, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: redirectUri,
    client_id: channel.channelId,
    client_secret: channel.secret!,
  })
}

interface LoggedIn {
  issuer: string
  channel: TestChannel
  user: TestUser
  tokens: LineTokens
  nonce: string
  state: string
  sub: string
}

/** A running plusid, a channel, a user who logged in with `profile openid`, and their tokens. */
async function loggedIn(
  t: TestContext,
  channelOptions: Parameters<typeof createTestChannel>[0] = {},
  overrides: AuthorizeParams = {},
): Promise<LoggedIn> {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel(channelOptions)
  const user = await createTestUser()
  const { code, state, nonce } = await getCode(issuer, channel, user, overrides)
  const response = await exchangeCode(issuer, channel, code)
  assert.equal(response.status, 200, await response.clone().text())
  const tokens = (await response.json()) as LineTokens
  const sub = tokens.id_token ? (decodeJwt(tokens.id_token).sub as string) : ''
  return { issuer, channel, user, tokens, nonce: nonce!, state: state!, sub }
}

/** An authorization request sent without a browser session: where plusid redirects straight away. */
async function authorizeRedirect(issuer: string, params: Record<string, string | undefined>): Promise<URL> {
  const response = await fetch(authorizeUrl(issuer, params), { redirect: 'manual' })
  assert.equal(response.status, 302, `expected a redirect, got ${response.status}: ${(await response.text()).slice(0, 500)}`)
  return new URL(response.headers.get('location')!)
}

async function assertJsonError(response: Response, status: number, error: string, description?: string): Promise<Record<string, unknown>> {
  const text = await response.text()
  assert.equal(response.status, status, text)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text) as Record<string, unknown>
  assert.equal(body.error, error, text)
  assert.equal(typeof body.error_description, 'string', text)
  if (description !== undefined) assert.equal(body.error_description, description)
  return body
}

const bearer = (token: string) => ({ headers: { authorization: `Bearer ${token}` } })

// ---------------------------------------------------------------------------------------------

test('1. token exchange with client_secret_post gives LINE’s token response and a decodable ID token', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const { code, nonce } = await getCode(issuer, channel, user)
  const before = Math.floor(Date.now() / 1000)
  const response = await exchangeCode(issuer, channel, code)
  const text = await response.text()
  assert.equal(response.status, 200, text)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text) as Record<string, unknown>
  assert.deepEqual(
    Object.keys(body),
    ['access_token', 'token_type', 'refresh_token', 'expires_in', 'scope', 'id_token'],
    'LINE’s fields, in LINE’s order',
  )
  assert.equal(typeof body.access_token, 'string')
  assert.ok((body.access_token as string).length >= 20)
  assert.equal(body.token_type, 'Bearer')
  assert.equal(typeof body.refresh_token, 'string')
  assert.ok((body.refresh_token as string).length >= 20)
  assert.notEqual(body.refresh_token, body.access_token)
  assert.equal(body.expires_in, ACCESS_TOKEN_TTL)
  assert.deepEqual((body.scope as string).split(' ').sort(), ['openid', 'profile'])

  // passport-line-auth's README: jwt.decode, no verification.
  const claims = decodeJwt(body.id_token as string)
  assert.equal(claims.iss, issuer)
  assert.match(claims.sub as string, SUB)
  assert.equal(typeof claims.aud, 'string', 'aud is a string, not an array (LINE)')
  assert.equal(claims.aud, channel.channelId)
  assert.equal(typeof claims.iat, 'number')
  assert.ok(claims.iat! >= before - 5 && claims.iat! <= Math.floor(Date.now() / 1000) + 5, `iat ${claims.iat} is not now`)
  assert.equal(claims.exp, claims.iat! + 3600)
  assert.equal(typeof claims.auth_time, 'number')
  assert.ok((claims.auth_time as number) <= claims.iat!)
  assert.ok((claims.auth_time as number) >= before - 120)
  assert.equal(claims.nonce, nonce)
  assert.deepEqual(claims.amr, ['pwd'])
  assert.equal(claims.name, user.name)
  const header = decodeProtectedHeader(body.id_token as string)
  assert.equal(header.alg, 'RS256', 'a channel created without an algorithm signs with RS256')
  assert.equal(typeof header.kid, 'string')
})

test('2. GET /v2/profile: userId is the ID token sub; 401 without a token; 403 without the profile scope', async (t) => {
  const { issuer, channel, user, tokens, sub } = await loggedIn(t)
  const response = await fetch(`${issuer}/v2/profile`, bearer(tokens.access_token))
  const text = await response.text()
  assert.equal(response.status, 200, text)
  const profile = JSON.parse(text) as Record<string, unknown>
  assert.match(sub, SUB)
  assert.equal(profile.userId, sub)
  assert.equal(profile.displayName, user.name)
  assert.equal(profile.statusMessage, undefined)

  const anonymous = await fetch(`${issuer}/v2/profile`)
  assert.equal(anonymous.status, 401)
  assert.match(anonymous.headers.get('content-type') ?? '', /^application\/json/)
  const anonymousBody = (await anonymous.json()) as Record<string, unknown>
  assert.equal(typeof anonymousBody.message, 'string')
  assert.ok((anonymousBody.message as string).length > 0)

  const bogus = await fetch(`${issuer}/v2/profile`, bearer(randomBytes(32).toString('base64url')))
  assert.equal(bogus.status, 401)
  assert.equal(typeof ((await bogus.json()) as Record<string, unknown>).message, 'string')

  // A token granted only `openid`: userinfo yes, LINE profile no.
  const { code } = await getCode(issuer, channel, user, { scope: 'openid' })
  const exchanged = await exchangeCode(issuer, channel, code)
  assert.equal(exchanged.status, 200)
  const openidOnly = (await exchanged.json()) as LineTokens
  assert.equal(openidOnly.scope, 'openid')
  const forbidden = await fetch(`${issuer}/v2/profile`, bearer(openidOnly.access_token))
  assert.equal(forbidden.status, 403)
  assert.equal(typeof ((await forbidden.json()) as Record<string, unknown>).message, 'string')
  const userinfo = await fetch(`${issuer}/oauth2/v2.1/userinfo`, bearer(openidOnly.access_token))
  assert.equal(userinfo.status, 200)
  assert.equal(((await userinfo.json()) as Record<string, unknown>).sub, sub)
})

test('3. GET /oauth2/v2.1/verify checks an access token with LINE’s answers and error texts', async (t) => {
  const { issuer, channel, tokens } = await loggedIn(t)
  const verify = (token: string) => fetch(`${issuer}/oauth2/v2.1/verify?${query({ access_token: token })}`)

  const response = await verify(tokens.access_token)
  const text = await response.text()
  assert.equal(response.status, 200, text)
  const body = JSON.parse(text) as Record<string, unknown>
  assert.deepEqual(Object.keys(body).sort(), ['client_id', 'expires_in', 'scope'])
  assert.deepEqual((body.scope as string).split(' ').sort(), ['openid', 'profile'])
  assert.equal(typeof body.client_id, 'string', 'client_id is a string (LINE)')
  assert.equal(body.client_id, channel.channelId)
  assert.equal(typeof body.expires_in, 'number')
  assert.ok((body.expires_in as number) > 0 && (body.expires_in as number) <= ACCESS_TOKEN_TTL, `expires_in ${body.expires_in}`)
  assert.ok((body.expires_in as number) >= ACCESS_TOKEN_TTL - 120, 'a fresh token has nearly 30 days left')

  await assertJsonError(await verify('not a token'), 400, 'invalid_request', 'The access token not JWS')

  const revoked = await postForm(`${issuer}/oauth2/v2.1/revoke`, {
    access_token: tokens.access_token,
    client_id: channel.channelId,
    client_secret: channel.secret!,
  })
  assert.equal(revoked.status, 200)
  await assertJsonError(await verify(tokens.access_token), 400, 'invalid_request', 'The access token revoked')
})

test('4. POST /oauth2/v2.1/verify checks an ID token: payload back, LINE’s error texts, HS256 channels too', async (t) => {
  const { issuer, channel, user, tokens, nonce, sub } = await loggedIn(t)
  const verify = (fields: Record<string, string | undefined>) => postForm(`${issuer}/oauth2/v2.1/verify`, fields)
  const idToken = tokens.id_token!

  const ok = await verify({ id_token: idToken, client_id: channel.channelId, nonce, user_id: sub })
  const text = await ok.text()
  assert.equal(ok.status, 200, text)
  const payload = JSON.parse(text) as Record<string, unknown>
  assert.deepEqual(payload, decodeJwt(idToken), 'the decoded payload of the token')
  assert.equal(payload.sub, sub)
  assert.equal(payload.aud, channel.channelId)
  assert.equal(payload.iss, issuer)
  assert.equal(payload.nonce, nonce)
  assert.equal(payload.name, user.name)

  const minimal = await verify({ id_token: idToken, client_id: channel.channelId })
  assert.equal(minimal.status, 200)
  assert.equal(((await minimal.json()) as Record<string, unknown>).sub, sub)

  const other = await createTestChannel()
  await assertJsonError(
    await verify({ id_token: idToken, client_id: other.channelId }),
    400,
    'invalid_request',
    'Invalid IdToken Audience.',
  )
  await assertJsonError(
    await verify({ id_token: idToken, client_id: channel.channelId, nonce: `${nonce}x` }),
    400,
    'invalid_request',
    'Invalid IdToken Nonce.',
  )
  await assertJsonError(
    await verify({ id_token: idToken, client_id: channel.channelId, user_id: `U${'0'.repeat(32)}` }),
    400,
    'invalid_request',
    'Invalid IdToken Subject Identifier.',
  )
  await assertJsonError(await verify({ id_token: 'garbage', client_id: channel.channelId }), 400, 'invalid_request', 'Invalid IdToken.')
  const [head, body, signature] = idToken.split('.') as [string, string, string]
  const forged = `${head}.${body}.${signature.startsWith('A') ? 'B' : 'A'}${signature.slice(1)}`
  await assertJsonError(await verify({ id_token: forged, client_id: channel.channelId }), 400, 'invalid_request', 'Invalid IdToken.')

  // A web-login channel with LINE's HS256 ID tokens, keyed with the channel secret.
  const hs = await createTestChannel({ idTokenAlg: 'HS256' })
  const { code, nonce: hsNonce } = await getCode(issuer, hs, user)
  const exchanged = await exchangeCode(issuer, hs, code)
  assert.equal(exchanged.status, 200)
  const hsToken = ((await exchanged.json()) as LineTokens).id_token!
  const header = decodeProtectedHeader(hsToken)
  assert.equal(header.alg, 'HS256')
  assert.equal(header.kid, undefined, 'HS256 ID tokens carry no kid (LINE)')
  // line-login-starter's check: HMAC with the channel secret as UTF-8.
  const { payload: local } = await jwtVerify(hsToken, new TextEncoder().encode(hs.secret!), { issuer, audience: hs.channelId })
  assert.equal(local.nonce, hsNonce)
  const hsVerified = await verify({ id_token: hsToken, client_id: hs.channelId, nonce: hsNonce })
  const hsText = await hsVerified.text()
  assert.equal(hsVerified.status, 200, hsText)
  const hsPayload = JSON.parse(hsText) as Record<string, unknown>
  assert.equal(hsPayload.aud, hs.channelId)
  assert.equal(hsPayload.sub, local.sub)
  assert.equal(hsPayload.sub, sub, 'same provider, same user: same sub')
  await assertJsonError(
    await verify({ id_token: hsToken, client_id: channel.channelId }),
    400,
    'invalid_request',
    'Invalid IdToken Audience.',
  )
})

test('5. POST /oauth2/v2.1/revoke with LINE’s form: 200 empty, the token stops working; unknown 200; bad secret 401', async (t) => {
  const { issuer, channel, tokens } = await loggedIn(t)
  const revoke = (fields: Record<string, string | undefined>) => postForm(`${issuer}/oauth2/v2.1/revoke`, fields)

  assert.equal((await fetch(`${issuer}/oauth2/v2.1/userinfo`, bearer(tokens.access_token))).status, 200)
  assert.equal((await fetch(`${issuer}/v2/profile`, bearer(tokens.access_token))).status, 200)

  await assertJsonError(
    await revoke({ access_token: tokens.access_token, client_id: channel.channelId, client_secret: 'f'.repeat(32) }),
    401,
    'invalid_client',
  )
  assert.equal((await fetch(`${issuer}/v2/profile`, bearer(tokens.access_token))).status, 200, 'a refused revoke revokes nothing')

  const response = await revoke({ access_token: tokens.access_token, client_id: channel.channelId, client_secret: channel.secret! })
  assert.equal(response.status, 200)
  assert.equal(await response.text(), '')

  const userinfo = await fetch(`${issuer}/oauth2/v2.1/userinfo`, bearer(tokens.access_token))
  assert.equal(userinfo.status, 401)
  assert.match(userinfo.headers.get('www-authenticate') ?? '', /^Bearer /)
  const profile = await fetch(`${issuer}/v2/profile`, bearer(tokens.access_token))
  assert.equal(profile.status, 401)
  assert.equal(typeof ((await profile.json()) as Record<string, unknown>).message, 'string')

  const again = await revoke({ access_token: tokens.access_token, client_id: channel.channelId, client_secret: channel.secret! })
  assert.equal(again.status, 200, 'revoking twice is fine')
  const unknown = await revoke({
    access_token: randomBytes(32).toString('base64url'),
    client_id: channel.channelId,
    client_secret: channel.secret!,
  })
  assert.equal(unknown.status, 200)
  assert.equal(await unknown.text(), '')
  const odd = await revoke({ access_token: 'not-a-token-at-all', client_id: channel.channelId, client_secret: channel.secret! })
  assert.equal(odd.status, 200)
})

test('6. refresh_token grant: the same refresh token back, a new access token, no ID token', async (t) => {
  const { issuer, channel, tokens } = await loggedIn(t)
  const refresh = (refreshToken: string) =>
    postForm(`${issuer}/oauth2/v2.1/token`, {
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: channel.channelId,
      client_secret: channel.secret!,
    })

  const response = await refresh(tokens.refresh_token)
  const text = await response.text()
  assert.equal(response.status, 200, text)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text) as Record<string, unknown>
  assert.equal(body.token_type, 'Bearer')
  assert.equal(body.refresh_token, tokens.refresh_token, 'a web channel keeps its refresh token (LINE)')
  assert.equal(typeof body.access_token, 'string')
  assert.notEqual(body.access_token, tokens.access_token)
  assert.equal(body.expires_in, ACCESS_TOKEN_TTL)
  assert.deepEqual((body.scope as string).split(' ').sort(), ['openid', 'profile'])
  assert.ok(!('id_token' in body), 'no id_token on refresh (LINE)')

  const profile = await fetch(`${issuer}/v2/profile`, bearer(body.access_token as string))
  assert.equal(profile.status, 200)

  const second = await refresh(tokens.refresh_token)
  assert.equal(second.status, 200, 'a web channel may refresh again with the same token')
  assert.equal(((await second.json()) as Record<string, unknown>).refresh_token, tokens.refresh_token)

  await assertJsonError(await refresh(randomBytes(32).toString('base64url')), 400, 'invalid_grant', 'invalid refresh token')
  await assertJsonError(await refresh('c48hfkT4xMSI5q2VTTEy'), 400, 'invalid_grant', 'invalid refresh token')
  await assertJsonError(await refresh(tokens.access_token), 400, 'invalid_grant')
})

test('7. authorization errors: UPPERCASE codes for an errorStyle line channel, lowercase by default, always iss', async (t) => {
  const { issuer } = await startServer(t)
  const line = await createTestChannel({ errorStyle: 'line' })
  const rfc = await createTestChannel()

  const cases = [
    { name: 'no state, no PKCE', overrides: { state: undefined }, code: 'invalid_request' },
    { name: 'response_type=token', overrides: { response_type: 'token' }, code: 'unsupported_response_type' },
    { name: 'scope=email alone', overrides: { scope: 'email' }, code: 'invalid_scope' },
  ]
  for (const { channel, upper } of [
    { channel: line, upper: true },
    { channel: rfc, upper: false },
  ]) {
    for (const { name, overrides, code } of cases) {
      const params = authorizeParams(channel, overrides)
      const location = await authorizeRedirect(issuer, params)
      const label = `${upper ? 'line' : 'rfc'} channel, ${name}: ${location.href}`
      assert.equal(location.origin + location.pathname, channel.redirectUri, label)
      assert.equal(location.searchParams.get('error'), upper ? code.toUpperCase() : code, label)
      assert.equal(location.searchParams.get('code'), null, label)
      assert.equal(location.searchParams.get('iss'), issuer, label)
      assert.equal(typeof location.searchParams.get('error_description'), 'string', label)
      if (params.state === undefined) assert.equal(location.searchParams.has('state'), false, label)
      else assert.equal(location.searchParams.get('state'), params.state, label)
    }
  }
})

test('8. token endpoint errors are RFC 6749 JSON with Cache-Control: no-store', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const tokenUrl = `${issuer}/oauth2/v2.1/token`
  const { code } = await getCode(issuer, channel, user)
  const fields = { grant_type: 'authorization_code', code, redirect_uri: channel.redirectUri, client_id: channel.channelId }

  // Wrong secret, in the body and with Basic.
  const post = await postForm(tokenUrl, { ...fields, client_secret: 'f'.repeat(32) })
  await assertJsonError(post, 401, 'invalid_client')
  const { client_id: _omit, ...withoutId } = fields
  void _omit
  const basicResponse = await postForm(tokenUrl, withoutId, { authorization: basic(channel.channelId, 'f'.repeat(32)) })
  assert.match(basicResponse.headers.get('www-authenticate') ?? '', /^Basic/i)
  await assertJsonError(basicResponse, 401, 'invalid_client')
  const unknownChannel = await postForm(tokenUrl, { ...fields, client_id: '1000000001', client_secret: channel.secret! })
  await assertJsonError(unknownChannel, 401, 'invalid_client')

  await assertJsonError(
    await postForm(tokenUrl, { ...fields, grant_type: 'password', client_secret: channel.secret! }),
    400,
    'unsupported_grant_type',
  )
  await assertJsonError(await postForm(tokenUrl, { ...fields, code: undefined, client_secret: channel.secret! }), 400, 'invalid_request')
  const json = await fetch(tokenUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...fields, client_secret: channel.secret! }),
  })
  await assertJsonError(json, 400, 'invalid_request')

  // Only the code's channel, authenticated, can burn it: the attempts above with a wrong secret
  // left it alone, and the channel redeems it now (a second use then fails).
  assert.equal((await exchangeCode(issuer, channel, code)).status, 200)
  await assertJsonError(await exchangeCode(issuer, channel, code), 400, 'invalid_grant')

  // A different redirect_uri than the authorize request's is refused.
  const { code: second } = await getCode(issuer, channel, user)
  await assertJsonError(
    await exchangeCode(issuer, channel, second, 'https://rp.example.com/other'),
    400,
    'invalid_grant',
    'redirect_uri does not match',
  )

  // Unknown code.
  await assertJsonError(await exchangeCode(issuer, channel, randomBytes(32).toString('base64url')), 400, 'invalid_grant')

  // Basic auth with the right secret works (LINE accepts it too).
  const { code: fresh } = await getCode(issuer, channel, user)
  const ok = await postForm(
    tokenUrl,
    { grant_type: 'authorization_code', code: fresh, redirect_uri: channel.redirectUri },
    { authorization: basic(channel.channelId, channel.secret!) },
  )
  assert.equal(ok.status, 200, await ok.clone().text())
  // A used code.
  await assertJsonError(await exchangeCode(issuer, channel, fresh), 400, 'invalid_grant')
})

test('9. POST /oauth2/v3/token client_credentials: a 15-minute channel access token', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const url = `${issuer}/oauth2/v3/token`
  const response = await postForm(url, { grant_type: 'client_credentials', client_id: channel.channelId, client_secret: channel.secret! })
  const text = await response.text()
  assert.equal(response.status, 200, text)
  assert.equal(response.headers.get('cache-control'), 'no-store')
  const body = JSON.parse(text) as Record<string, unknown>
  assert.equal(body.token_type, 'Bearer')
  assert.equal(typeof body.access_token, 'string')
  assert.ok((body.access_token as string).length >= 20)
  assert.equal(body.expires_in, 900)

  const again = (await (
    await postForm(url, { grant_type: 'client_credentials', client_id: channel.channelId, client_secret: channel.secret! })
  ).json()) as Record<string, unknown>
  assert.notEqual(again.access_token, body.access_token)

  await assertJsonError(
    await postForm(url, { grant_type: 'client_credentials', client_id: channel.channelId, client_secret: 'f'.repeat(32) }),
    401,
    'invalid_client',
  )
  await assertJsonError(await postForm(url, { grant_type: 'client_credentials', client_id: channel.channelId }), 401, 'invalid_client')
})

test('10. POST /oauth2/v2.1/introspect (RFC 7662): live, another channel’s, revoked', async (t) => {
  const { issuer, channel, tokens, sub } = await loggedIn(t)
  const other = await createTestChannel()
  const introspect = async (token: string, as: TestChannel) => {
    const response = await postForm(`${issuer}/oauth2/v2.1/introspect`, { token, client_id: as.channelId, client_secret: as.secret! })
    const text = await response.text()
    assert.equal(response.status, 200, text)
    return JSON.parse(text) as Record<string, unknown>
  }

  const live = await introspect(tokens.access_token, channel)
  assert.equal(live.active, true)
  assert.equal(live.client_id, channel.channelId)
  assert.equal(live.sub, sub)
  assert.deepEqual((live.scope as string).split(' ').sort(), ['openid', 'profile'])
  assert.equal(live.token_type, 'Bearer')
  const now = Math.floor(Date.now() / 1000)
  assert.equal(typeof live.exp, 'number')
  assert.ok(Math.abs((live.exp as number) - (now + ACCESS_TOKEN_TTL)) <= 120, `exp ${live.exp}`)

  assert.deepEqual(await introspect(tokens.access_token, other), { active: false })
  assert.deepEqual(await introspect(randomBytes(32).toString('base64url'), channel), { active: false })

  const bad = await postForm(`${issuer}/oauth2/v2.1/introspect`, {
    token: tokens.access_token,
    client_id: channel.channelId,
    client_secret: 'f'.repeat(32),
  })
  await assertJsonError(bad, 401, 'invalid_client')

  const revoked = await postForm(`${issuer}/oauth2/v2.1/revoke`, {
    access_token: tokens.access_token,
    client_id: channel.channelId,
    client_secret: channel.secret!,
  })
  assert.equal(revoked.status, 200)
  assert.deepEqual(await introspect(tokens.access_token, channel), { active: false })
})

test('11. state and nonce of 2,048 characters come back byte for byte; 2,049 is refused', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const opaque = () => {
    const base = randomBytes(1536).toString('base64url') // 2,048 characters
    return (base.slice(0, 700) + '.~' + base.slice(700, 1400) + '~.' + base.slice(1400)).slice(0, 2048)
  }
  const state = opaque()
  const nonce = opaque()
  assert.equal(state.length, 2048)
  assert.equal(nonce.length, 2048)
  assert.match(state, /[.~]/)

  const { code, callback } = await getCode(issuer, channel, user, { state, nonce })
  assert.equal(callback.searchParams.get('state'), state)
  const response = await exchangeCode(issuer, channel, code)
  assert.equal(response.status, 200, await response.clone().text())
  const tokens = (await response.json()) as LineTokens
  assert.equal(decodeJwt(tokens.id_token!).nonce, nonce)

  const longState = await authorizeRedirect(issuer, authorizeParams(channel, { state: `${state}x` }))
  assert.equal(longState.searchParams.get('error'), 'invalid_request', longState.href.slice(0, 300))
  assert.equal(longState.searchParams.get('code'), null)
  assert.equal(longState.searchParams.get('iss'), issuer)
  const longNonce = await authorizeRedirect(issuer, authorizeParams(channel, { nonce: `${nonce}x` }))
  assert.equal(longNonce.searchParams.get('error'), 'invalid_request', longNonce.href.slice(0, 300))
  assert.equal(longNonce.searchParams.get('code'), null)
})

test('12. the authorization request as a form POST completes', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const browser = new WebBrowser()
  const endpoint = `${issuer}/oauth2/v2.1/authorize`
  const post = (params: Record<string, string | undefined>) =>
    browser.request(endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(params) })

  // A fresh browser (no plusid cookies yet).
  const first = authorizeParams(channel)
  const response = await post(first)
  assert.ok(response.status >= 300 && response.status < 400, `status ${response.status}: ${(await response.text()).slice(0, 500)}`)
  const next = new URL(response.headers.get('location')!, endpoint).href
  assert.ok(next.startsWith(issuer), next)
  const callback = await authorizeInBrowser(browser, issuer, next, { user })
  assert.equal(callback.origin + callback.pathname, channel.redirectUri, callback.href)
  assert.equal(callback.searchParams.get('state'), first.state)
  assert.equal(callback.searchParams.get('iss'), issuer)
  const code = callback.searchParams.get('code')
  assert.ok(code, callback.href)
  const exchanged = await exchangeCode(issuer, channel, code)
  assert.equal(exchanged.status, 200, await exchanged.clone().text())
  const claims = decodeJwt(((await exchanged.json()) as LineTokens).id_token!)
  assert.equal(claims.nonce, first.nonce)
  assert.equal(claims.aud, channel.channelId)

  // The same browser again, now logged in and consented: the POST itself answers with the code.
  const second = authorizeParams(channel)
  const direct = await post(second)
  assert.equal(direct.status, 303, (await direct.text()).slice(0, 500))
  const location = new URL(direct.headers.get('location')!)
  assert.equal(location.origin + location.pathname, channel.redirectUri, location.href)
  assert.equal(location.searchParams.get('state'), second.state)
  assert.equal(location.searchParams.get('iss'), issuer)
  const secondCode = location.searchParams.get('code')
  assert.ok(secondCode, location.href)
  const again = await exchangeCode(issuer, channel, secondCode)
  assert.equal(again.status, 200, await again.clone().text())
  const secondClaims = decodeJwt(((await again.json()) as LineTokens).id_token!)
  assert.equal(secondClaims.nonce, second.nonce)
  assert.equal(secondClaims.sub, claims.sub)
  assert.deepEqual(secondClaims.amr, ['linesso'], 'an existing session was reused')
})

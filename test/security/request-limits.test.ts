// Bounded work for hostile input, the deterministic part: RFC 9110 §15.5.14 (413 Content Too
// Large: bodies over 64 KiB, forms and JSON alike), RFC 6585 §5 (431 Request Header Fields Too
// Large: request line and headers over 16 KiB, answered by the HTTP server before any route),
// RFC 6749 §3.1 (a parameter MUST NOT be given more than once: authorize GET and POST, token,
// revoke, introspect, verify, client_credentials) and §3.2 (the token endpoint reads
// application/x-www-form-urlencoded: JSON and other content types get 400 invalid_request, the
// answer OAuth clients parse), the scope, state and nonce bounds of docs/protocol.md, and the
// password policy (8 to 1,024 bytes of UTF-8, any Unicode, NFC) and the Unicode rules of
// docs/profile-claims.md at registration, login and in the Profile+ editor.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { CALLBACK, createTestChannel, createTestUser, startServer, type TestChannel } from '../helpers/oidc.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'
import { findProfile } from '../../src/storage/profiles.ts'

const database = await testDatabase()
const db = database.db

const KIB = 1024
const form = (fields: Record<string, string | string[]>) => {
  const body = new URLSearchParams()
  for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) body.append(name, v)
  return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: body.toString() }
}
const userCount = async () =>
  Number(
    (
      await db
        .selectFrom('users')
        .select((eb) => eb.fn.countAll().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

function assertOAuthError(response: LightMyRequestResponse, status: number, error: string, description?: RegExp) {
  assert.equal(response.statusCode, status, response.body)
  const body = response.json() as { error: string; error_description: string }
  assert.equal(body.error, error, response.body)
  if (description) assert.match(body.error_description, description)
  assert.equal(response.headers['cache-control'], 'no-store')
}

function authorizeQuery(channel: TestChannel, extra: Record<string, string | string[]> = {}): string {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile',
    state: 'st',
  })
  for (const [name, value] of Object.entries(extra)) {
    query.delete(name)
    for (const v of [value].flat()) query.append(name, v)
  }
  return `/oauth2/v2.1/authorize?${query}`
}

/** The error redirected to the callback (RFC 6749 §4.1.2.1), asserting the redirect went there. */
function callbackError(response: LightMyRequestResponse): { error: string | null; description: string | null; state: string | null } {
  assert.ok(
    response.statusCode === 302 || response.statusCode === 303,
    `expected a redirect, got ${response.statusCode}: ${response.body.slice(0, 300)}`,
  )
  const location = new URL(String(response.headers.location))
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK)
  return {
    error: location.searchParams.get('error'),
    description: location.searchParams.get('error_description'),
    state: location.searchParams.get('state'),
  }
}

// ---------------------------------------------------------------- 413

test('RFC 9110 §15.5.14: a form body over 64 KiB gets 413 before it is read, and registers nobody', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await browser.get('/register')
  const before = await userCount()
  const huge = await browser.post('/register', { email: uniqueEmail(), password: 'correct horse battery', name: 'x'.repeat(64 * KIB) })
  assert.equal(huge.statusCode, 413)
  assert.match(huge.headers['content-type'] as string, /text\/html/)
  assert.match(huge.body, /Too much data/)
  assert.equal(await userCount(), before)
  // Just under the limit is read (and refused for its content, with a field message).
  await browser.get('/register')
  const under = await browser.post('/register', { email: uniqueEmail(), password: 'correct horse battery', name: 'x'.repeat(60 * KIB) })
  assert.equal(under.statusCode, 400)
  assert.match(under.body, /Display name must be at most 64 characters/)
  assert.equal(await userCount(), before)
})

test('RFC 9110 §15.5.14: the protocol endpoints answer 413 with an OAuth error body; JSON APIs too', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const big = 'a'.repeat(65 * KIB)
  for (const url of [
    '/oauth2/v2.1/token',
    '/oauth2/v2.1/revoke',
    '/oauth2/v2.1/introspect',
    '/oauth2/v2.1/verify',
    '/oauth2/v3/token',
    '/oauth2/v2.1/userinfo',
  ]) {
    const response = await app.inject({
      method: 'POST',
      url,
      ...form({ client_id: channel.channelId, client_secret: channel.secret!, grant_type: 'authorization_code', code: big }),
    })
    assertOAuthError(response, 413, 'invalid_request', /larger than 64 KiB/)
  }
  const deauthorize = await app.inject({
    method: 'POST',
    url: '/user/v1/deauthorize',
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    payload: JSON.stringify({ userAccessToken: big }),
  })
  assert.equal(deauthorize.statusCode, 413)
  const admin = await createTestUser({ profile: null })
  await db.updateTable('users').set({ is_admin: true }).where('id', '=', admin.userId).execute()
  const { token } = await createAdminToken(db, admin.userId)
  const api = await app.inject({
    method: 'POST',
    url: '/admin/api/channels/1/suspend',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    payload: JSON.stringify({ reason: big }),
  })
  assert.equal(api.statusCode, 413)
  assert.equal((api.json() as { error: string }).error, 'invalid_request')
})

// ---------------------------------------------------------------- 431

/** A GET with the given headers; what the client sees, status and body. */
async function rawRequest(url: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const response = await fetch(url, { headers, redirect: 'manual' })
  return { status: response.status, body: await response.text() }
}

test('RFC 6585 §5: request headers or a request line over 16 KiB get 431 from the listening server', async (t) => {
  const { issuer } = await startServer(t)
  const fine = await rawRequest(`${issuer}/login`, { 'x-padding': 'a'.repeat(12 * KIB) })
  assert.equal(fine.status, 200, 'a 12 KiB header is read')
  const tooLarge = await rawRequest(`${issuer}/login`, { 'x-padding': 'a'.repeat(17 * KIB) })
  assert.equal(tooLarge.status, 431)
  const cookie = await rawRequest(`${issuer}/account`, { cookie: `plusid_session=${'a'.repeat(20 * KIB)}` })
  assert.equal(cookie.status, 431)
  const longUrl = await rawRequest(`${issuer}/oauth2/v2.1/authorize?state=${'s'.repeat(17 * KIB)}`, {})
  assert.equal(longUrl.status, 431)
  for (const answer of [tooLarge, cookie, longUrl]) assert.doesNotMatch(answer.body, /\bat |node_modules/)
  // The server is still serving afterwards.
  assert.equal((await fetch(`${issuer}/healthz`)).status, 200)
})

// ---------------------------------------------------------------- authorize bounds

test('state and nonce up to 2,048 characters are accepted and returned byte for byte; longer ones are refused', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const longest = 'S'.repeat(2048)
  const accepted = await app.inject({ method: 'GET', url: authorizeQuery(channel, { state: longest, nonce: 'N'.repeat(2048) }) })
  assert.equal(accepted.statusCode, 303, 'an interaction starts')
  // Cancelling the login returns the state exactly as sent.
  const browser = new Browser(app)
  const start = await browser.get(authorizeQuery(channel, { state: `${longest.slice(0, 2040)}+/=%&é` }))
  const login = await browser.get(String(start.headers.location))
  const action = /action="(\/interaction\/[^"]+\/login)"/.exec(login.body)![1]!
  const cancelled = callbackError(await browser.post(action, { decision: 'cancel' }))
  assert.equal(cancelled.state, `${longest.slice(0, 2040)}+/=%&é`)

  const longState = callbackError(await app.inject({ method: 'GET', url: authorizeQuery(channel, { state: 'S'.repeat(2049) }) }))
  assert.equal(longState.error, 'invalid_request')
  assert.match(longState.description!, /state must be at most 2048 characters/)
  const longNonce = callbackError(await app.inject({ method: 'GET', url: authorizeQuery(channel, { nonce: 'N'.repeat(2049) }) }))
  assert.equal(longNonce.error, 'invalid_request')
  assert.match(longNonce.description!, /nonce must be at most 2048 characters/)
})

test('scope: more than 1,024 characters or more than 32 values is invalid_scope with a clear message', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const long = callbackError(
    await app.inject({ method: 'GET', url: authorizeQuery(channel, { scope: `openid profile ${'x'.repeat(1020)}` }) }),
  )
  assert.equal(long.error, 'invalid_scope')
  assert.match(long.description!, /scope must be at most 1024 characters/)
  const many = callbackError(
    await app.inject({ method: 'GET', url: authorizeQuery(channel, { scope: Array(33).fill('openid').join(' ') }) }),
  )
  assert.equal(many.error, 'invalid_scope')
  assert.match(many.description!, /at most 32 values/)
  assert.equal(many.state, 'st')
  // 32 values (repeated known ones) are within the bound.
  assert.equal(
    (await app.inject({ method: 'GET', url: authorizeQuery(channel, { scope: Array(32).fill('openid').join(' ') }) })).statusCode,
    303,
  )
})

// ---------------------------------------------------------------- RFC 6749 §3.1: parameters at most once

test('RFC 6749 §3.1 at authorize, GET and POST: a repeated parameter is refused (a page before the callback is verified)', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  for (const name of ['state', 'scope', 'response_type', 'nonce', 'code_challenge', 'prompt']) {
    const values = name === 'code_challenge' ? ['a'.repeat(43), 'b'.repeat(43)] : ['openid', 'openid']
    const refused = callbackError(await app.inject({ method: 'GET', url: authorizeQuery(channel, { [name]: values }) }))
    assert.equal(refused.error, 'invalid_request', name)
    assert.match(refused.description!, new RegExp(`${name} was given more than once`))
  }
  for (const name of ['client_id', 'redirect_uri']) {
    const value = name === 'client_id' ? channel.channelId : channel.redirectUri
    const page = await app.inject({ method: 'GET', url: authorizeQuery(channel, { [name]: [value, value] }) })
    assert.equal(page.statusCode, 400, 'never redirected')
    assert.equal(page.headers.location, undefined)
    assert.match(page.body, new RegExp(`gives ${name} more than once`))
  }
  // POST from a browser that has plusid's cookie is read in place.
  const query = new URLSearchParams(authorizeQuery(channel).split('?')[1])
  const body = Object.fromEntries(query)
  const withCookie = form({ ...body, state: ['a', 'b'] })
  const post = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/authorize',
    headers: { ...withCookie.headers, cookie: `plusid_browser=${'k'.repeat(43)}` },
    payload: withCookie.payload,
  })
  const refused = callbackError(post)
  assert.equal(post.statusCode, 303, 'a redirect answering a form post is a 303')
  assert.equal(refused.error, 'invalid_request')
  // Without cookies the POST becomes the same GET, repeated parameter included, which is refused there.
  const anonymous = await app.inject({ method: 'POST', url: '/oauth2/v2.1/authorize', ...form({ ...body, state: ['a', 'b'] }) })
  assert.equal(anonymous.statusCode, 303)
  assert.equal(callbackError(await app.inject({ method: 'GET', url: String(anonymous.headers.location) })).error, 'invalid_request')
})

test('RFC 6749 §3.1 at token, revoke, introspect, verify and client_credentials: any repeated parameter is invalid_request', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const credentials = { client_id: channel.channelId, client_secret: channel.secret! }
  const cases: [string, Record<string, string | string[]>, string][] = [
    ['/oauth2/v2.1/token', { ...credentials, grant_type: 'authorization_code', code: ['a', 'b'], redirect_uri: CALLBACK }, 'code'],
    [
      '/oauth2/v2.1/token',
      { ...credentials, grant_type: ['authorization_code', 'authorization_code'], code: 'a', redirect_uri: CALLBACK },
      'grant_type',
    ],
    [
      '/oauth2/v2.1/token',
      { ...credentials, client_secret: [channel.secret!, channel.secret!], grant_type: 'refresh_token', refresh_token: 'r' },
      'client_secret',
    ],
    ['/oauth2/v2.1/token', { ...credentials, grant_type: 'refresh_token', refresh_token: 'r', scope: ['openid', 'openid'] }, 'scope'],
    ['/oauth2/v2.1/revoke', { ...credentials, token: ['a', 'b'] }, 'token'],
    ['/oauth2/v2.1/revoke', { ...credentials, token: 'a', token_type_hint: ['access_token', 'refresh_token'] }, 'token_type_hint'],
    ['/oauth2/v2.1/introspect', { ...credentials, token: 'a', token_type_hint: ['access_token', 'access_token'] }, 'token_type_hint'],
    ['/oauth2/v2.1/verify', { id_token: ['a', 'b'], client_id: channel.channelId }, 'id_token'],
    ['/oauth2/v3/token', { ...credentials, grant_type: ['client_credentials', 'client_credentials'] }, 'grant_type'],
  ]
  for (const [url, fields, name] of cases) {
    assertOAuthError(
      await app.inject({ method: 'POST', url, ...form(fields) }),
      400,
      'invalid_request',
      new RegExp(`${name} was given more than once`),
    )
  }
  const verify = await app.inject({ method: 'GET', url: '/oauth2/v2.1/verify?access_token=a&access_token=b' })
  assertOAuthError(verify, 400, 'invalid_request', /access_token was given more than once/)
  const userinfo = await app.inject({ method: 'POST', url: '/oauth2/v2.1/userinfo', ...form({ access_token: ['a', 'b'] }) })
  assert.equal(userinfo.statusCode, 400)
  assert.equal((userinfo.json() as { error: string }).error, 'invalid_request')
})

// ---------------------------------------------------------------- content types

test('RFC 6749 §3.2: JSON or any other content type at the token endpoint is 400 invalid_request, never 415 or a 500', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const fields = {
    grant_type: 'authorization_code',
    code: 'c',
    redirect_uri: CALLBACK,
    client_id: channel.channelId,
    client_secret: channel.secret!,
  }
  const bodies: [string, string][] = [
    ['application/json', JSON.stringify(fields)],
    ['application/json', '{"grant_type": '],
    ['application/json', '{"__proto__": {"admin": true}}'],
    ['text/plain', new URLSearchParams(fields).toString()],
    ['multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="grant_type"\r\n\r\nauthorization_code\r\n--x--'],
    ['application/xml', '<grant_type>authorization_code</grant_type>'],
  ]
  for (const [type, payload] of bodies) {
    for (const url of ['/oauth2/v2.1/token', '/oauth2/v2.1/revoke', '/oauth2/v3/token']) {
      const response = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
      assertOAuthError(
        response,
        400,
        'invalid_request',
        /Content-Type must be application\/x-www-form-urlencoded|the request body could not be read/,
      )
    }
  }
  const none = await app.inject({ method: 'POST', url: '/oauth2/v2.1/token', payload: new URLSearchParams(fields).toString() })
  assertOAuthError(none, 400, 'invalid_request')
})

test('pages read form bodies only: JSON, text and XML get the 415 page; the JSON APIs refuse forms and bad JSON cleanly', async (t) => {
  const app = await build(t)
  for (const [type, payload] of [
    ['application/json', '{"email": "a@example.com"}'],
    ['text/plain', 'email=a'],
    ['application/xml', '<a/>'],
  ] as const) {
    for (const url of ['/login', '/register', '/account/profile', '/console/providers', '/interaction/x/consent']) {
      const response = await app.inject({ method: 'POST', url, headers: { 'content-type': type }, payload })
      assert.equal(response.statusCode, 415, `${type} at ${url}`)
      assert.match(response.body, /Unsupported form/)
    }
  }
  const badJson = await app.inject({
    method: 'POST',
    url: '/user/v1/deauthorize',
    headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
    payload: '{"userAccessToken": ',
  })
  assert.ok(badJson.statusCode === 400 || badJson.statusCode === 401, String(badJson.statusCode))
  const admin = await createTestUser({ profile: null })
  await db.updateTable('users').set({ is_admin: true }).where('id', '=', admin.userId).execute()
  const { token } = await createAdminToken(db, admin.userId)
  const poisoned = await app.inject({
    method: 'POST',
    url: '/admin/api/channels/1/suspend',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    payload: '{"__proto__": {"x": 1}, "reason": "r"}',
  })
  assert.equal(poisoned.statusCode, 400)
  assert.equal((poisoned.json() as { error: string }).error, 'invalid_request')
  const xml = await app.inject({
    method: 'POST',
    url: '/admin/api/channels/1/suspend',
    headers: { 'content-type': 'application/xml', authorization: `Bearer ${token}` },
    payload: '<a/>',
  })
  assert.equal(xml.statusCode, 415)
  assert.equal((xml.json() as { error: string }).error, 'invalid_request')
})

// ---------------------------------------------------------------- password policy and Unicode

test('passwords: 8 to 1,024 bytes of UTF-8, any Unicode; lone surrogates refused; NFC and NFD forms are the same password', async (t) => {
  const app = await build(t)
  const register = async (password: string) => {
    const browser = new Browser(app)
    await browser.get('/register')
    const email = uniqueEmail('pw')
    return { email, response: await browser.post('/register', { email, password, name: 'Pw' }) }
  }
  assert.equal((await register('8bytes!x')).response.statusCode, 303, '8 bytes')
  assert.equal((await register('12345678')).response.statusCode, 400, '8 bytes, but the most common password of all')
  assert.equal((await register('あいう')).response.statusCode, 303, '3 characters, 9 bytes')
  const short = await register('1234567')
  assert.equal(short.response.statusCode, 400)
  assert.match(short.response.body, /Password must be at least 8 bytes/)
  const longest = 'あ'.repeat(341) + 'a' // 1,024 bytes
  const accepted = await register(longest)
  assert.equal(accepted.response.statusCode, 303, '1,024 bytes')
  const tooLong = await register(longest + 'a')
  assert.equal(tooLong.response.statusCode, 400)
  assert.match(tooLong.response.body, /Password must be at most 1024 bytes/)
  for (const refused of [short, tooLong]) {
    assert.equal(
      await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(refused.email)).executeTakeFirst(),
      undefined,
    )
  }
  // The longest password logs in; emails are compared after case folding.
  const login = new Browser(app)
  await login.get('/login')
  assert.equal((await login.post('/login', { email: accepted.email.toUpperCase(), password: longest })).statusCode, 303)
  // Registered composed (é = U+00E9), typed decomposed (e + U+0301): the same password.
  const composed = await register('caf\u00e9 au lait')
  assert.equal(composed.response.statusCode, 303)
  const nfd = new Browser(app)
  await nfd.get('/login')
  assert.equal((await nfd.post('/login', { email: composed.email, password: 'cafe\u0301 au lait' })).statusCode, 303)
})

test('the text rule at registration and in the Profile+ editor: NFC stored; control and bidi characters refused, nothing saved', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await browser.get('/register')
  for (const name of ['Evil\u202Egnp.exe', 'Tab\there', 'Zero\u200Bwidth', 'Nul\u0000l', 'Line\u2028sep']) {
    const email = uniqueEmail('uni')
    await browser.get('/register')
    const response = await browser.post('/register', { email, password: 'correct horse battery', name })
    assert.equal(response.statusCode, 400, JSON.stringify(name))
    // U+0000 is refused before any form is read (PostgreSQL text cannot hold it); the rest by the field's rule.
    assert.match(response.body, name.includes('\u0000') ? /Bad request/ : /Display name must not contain control characters/)
    assert.equal(
      await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).executeTakeFirst(),
      undefined,
    )
  }
  const account = await registerUser(browser, { name: 'Jose\u0301' })
  const row = await db
    .selectFrom('users')
    .select(['id', 'display_name'])
    .where('email_hmac', '=', keyring().emailHmac(account.email))
    .executeTakeFirstOrThrow()
  assert.equal(row.display_name, 'Jos\u00e9', 'stored as NFC')

  const valid = {
    family_name: '山田',
    given_name: '花子',
    family_name_pronunciation: 'ヤマダ',
    given_name_pronunciation: 'ハナコ',
    'address.postal_code': '102-8282',
    'address.region': '東京都',
    'address.locality': '千代田区',
    'address.street_address': '1番3号',
    'address.country': 'JP',
    name: 'Jos\u00e9',
  }
  await browser.get('/account/profile')
  for (const [field, value] of [
    ['address.street_address', '1番3号\u202E'],
    ['family_name', '山\u0007田'],
    ['given_name', '花\uFEFF子'],
    ['address.locality', '千代田区\u2066x\u2069'],
  ] as const) {
    const response = await browser.post('/account/profile', { ...valid, [field]: value })
    assert.equal(response.statusCode, 400, `${field} ${JSON.stringify(value)}`)
    assert.match(response.body, /must not contain control characters/)
  }
  assert.equal((await findProfile(db, row.id)).address, null, 'nothing saved')
  const saved = await browser.post('/account/profile', { ...valid, 'address.locality': 'Cafe\u0301' })
  assert.equal(saved.statusCode, 303)
  assert.equal((await findProfile(db, row.id)).address?.locality, 'Caf\u00e9')
})

test('a POST authorize too large to be re-sent as a GET is refused with a page, not passed on to fail with 431', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const body = Object.fromEntries(new URLSearchParams(authorizeQuery(channel).split('?')[1]))
  const response = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/authorize',
    ...form({ ...body, id_token_hint: 'h'.repeat(9 * KIB) }),
  })
  assert.equal(response.statusCode, 413)
  assert.equal(response.headers.location, undefined)
})

test('U+0000 in a path, query or body is 400 before any route runs (PostgreSQL text cannot hold it), never a 500', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  for (const url of ['/account/sessions/%00/end', '/account/apps/a%00b/unlink']) {
    await browser.get('/account/sessions')
    const response = await browser.post(url, {})
    assert.equal(response.statusCode, 400, url)
    assert.match(response.body, /Bad request/)
  }
  assert.equal((await browser.get('/console/channels/%00')).statusCode, 400)
  const token = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    ...form({ grant_type: 'authorization_code', code: 'c', redirect_uri: CALLBACK, client_id: '1\u00002' }),
  })
  assertOAuthError(token, 400, 'invalid_request', /NUL character/)
  const verify = await app.inject({ method: 'GET', url: '/oauth2/v2.1/verify?access_token=%00' })
  assertOAuthError(verify, 400, 'invalid_request', /NUL character/)
})

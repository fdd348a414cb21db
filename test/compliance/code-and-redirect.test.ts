// RFC 6749 §4.1.2 / §10.5 (authorization codes: short-lived, single use, bound to the client and
// redirect URI), RFC 7636 §4.6 (PKCE), RFC 9700 §4.1.3 (exact redirect URI matching) and
// RFC 8252 §7.3 (loopback port for native apps). The code is burnt before PKCE is checked
// (node-oauth2-server's order), so a failed guess cannot be retried.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel, type TestChannel } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'

const database = await testDatabase()

const VERIFIER = 'a'.repeat(43) + '-._~' + 'b'.repeat(10)
const CHALLENGE = createHash('sha256').update(VERIFIER).digest('base64url')

/** Logs a new user in and walks consent; returns the code the callback receives. */
async function getCode(app: FastifyInstance, channel: TestChannel, extra: Record<string, string> = {}, browser?: Browser): Promise<string> {
  const b = browser ?? new Browser(app)
  if (!browser) await registerUser(b)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile',
    state: 'st',
    ...extra,
  })
  let response = await b.get(`/oauth2/v2.1/authorize?${query}`)
  if (response.statusCode === 303) {
    response = await b.get(String(response.headers.location))
    assert.equal(response.statusCode, 200, response.body)
    const action = /action="(\/interaction\/[^"]+\/consent)"/.exec(response.body)![1]!
    response = await b.post(action, { decision: 'allow' })
    assert.equal(response.statusCode, 303, 'a redirect answering a form post is a 303')
  } else {
    assert.equal(response.statusCode, 302, response.body)
  }
  const code = new URL(String(response.headers.location)).searchParams.get('code')
  assert.ok(code, String(response.headers.location))
  return code
}

function exchange(app: FastifyInstance, channel: TestChannel, fields: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      redirect_uri: channel.redirectUri,
      client_id: channel.channelId,
      client_secret: channel.secret ?? '',
      ...fields,
    }).toString(),
  })
}

test('RFC 7636 §4.6: a wrong code_verifier burns the code; the right one afterwards is refused', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const code = await getCode(app, channel, { code_challenge: CHALLENGE, code_challenge_method: 'S256' })
  const wrong = await exchange(app, channel, { code, code_verifier: 'c'.repeat(43) })
  assert.equal(wrong.statusCode, 400)
  assert.equal(wrong.json().error, 'invalid_grant')
  const right = await exchange(app, channel, { code, code_verifier: VERIFIER })
  assert.equal(right.statusCode, 400)
  assert.equal(right.json().error, 'invalid_grant')
})

test('RFC 7636: a missing verifier fails when a challenge was sent; the right one succeeds', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const missing = await exchange(app, channel, {
    code: await getCode(app, channel, { code_challenge: CHALLENGE, code_challenge_method: 'S256' }),
  })
  assert.equal(missing.json().error, 'invalid_grant')
  const ok = await exchange(app, channel, {
    code: await getCode(app, channel, { code_challenge: CHALLENGE, code_challenge_method: 'S256' }),
    code_verifier: VERIFIER,
  })
  assert.equal(ok.statusCode, 200, ok.body)
  assert.equal(ok.headers['cache-control'], 'no-store')
})

test('RFC 7636 §4.2: plain is refused; only S256', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const browser = new Browser(app)
  await registerUser(browser)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid',
    state: 's',
    code_challenge: VERIFIER,
    code_challenge_method: 'plain',
  })
  const response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  const location = new URL(String(response.headers.location))
  assert.equal(location.searchParams.get('error'), 'invalid_request')
  assert.match(location.searchParams.get('error_description')!, /S256/)
})

test('RFC 6749 §10.5: a code is bound to its channel and expires', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const other = await createTestChannel()
  const stolen = await exchange(app, other, { code: await getCode(app, channel), redirect_uri: channel.redirectUri })
  assert.equal(stolen.json().error, 'invalid_grant')

  const code = await getCode(app, channel)
  await database.db
    .updateTable('authorization_codes')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('consumed_at', 'is', null)
    .execute()
  const late = await exchange(app, channel, { code })
  assert.equal(late.json().error, 'invalid_grant')
  assert.match(late.json().error_description, /expired/)
})

test('RFC 6749 §4.1.3: the token request must repeat the exact redirect_uri', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const response = await exchange(app, channel, { code: await getCode(app, channel), redirect_uri: channel.redirectUri + '/' })
  assert.equal(response.json().error, 'invalid_grant')
  assert.equal(response.json().error_description, 'redirect_uri does not match')
})

test('RFC 6749 §4.1.2: a code used twice revokes the tokens it issued', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const code = await getCode(app, channel)
  const first = await exchange(app, channel, { code })
  assert.equal(first.statusCode, 200)
  const { access_token: accessToken, refresh_token: refreshToken } = first.json()
  const second = await exchange(app, channel, { code })
  assert.equal(second.statusCode, 400)
  assert.equal(second.json().error, 'invalid_grant')
  const userinfo = await app.inject({ method: 'GET', url: '/oauth2/v2.1/userinfo', headers: { authorization: `Bearer ${accessToken}` } })
  assert.equal(userinfo.statusCode, 401)
  const refresh = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'refresh_token',
      refresh_token: refreshToken,
      client_id: channel.channelId,
      client_secret: channel.secret!,
    }).toString(),
  })
  assert.equal(refresh.json().error, 'invalid_grant')
})

test('RFC 9700 §4.1.3: redirect URIs match exactly — no added query, path, slash or case change', async (t) => {
  const app = await build(t)
  const registered = 'https://rp.example.com/cb?tenant=1'
  const channel = await createTestChannel({ callbackUrls: [registered] })
  const browser = new Browser(app)
  for (const candidate of [
    registered + '&x=1',
    'https://rp.example.com/cb',
    'https://rp.example.com/cb/?tenant=1',
    'https://RP.example.com/cb?tenant=1',
    'https://rp.example.com/cb/extra?tenant=1',
    'http://rp.example.com/cb?tenant=1',
  ]) {
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: channel.channelId,
      redirect_uri: candidate,
      scope: 'openid',
      state: 's',
    })
    const response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
    assert.equal(response.statusCode, 400, candidate)
    assert.equal(response.headers.location, undefined, `${candidate}: no redirect`)
    assert.match(response.body, /not a callback URL registered/)
  }
  // The registered URL's own query is kept, the response parameters appended (RFC 6749 §3.1.2).
  await registerUser(browser)
  const code = await getCode(app, { ...channel, redirectUri: registered }, {}, browser)
  assert.ok(code)
})

test('RFC 8252 §7.3: a native app may change the port of a loopback IP callback; other channels may not', async (t) => {
  const app = await build(t)
  const native = await createTestChannel({ kind: 'native', callbackUrls: ['http://127.0.0.1/callback', 'com.example.app:/oauth'] })
  const web = await createTestChannel({ callbackUrls: ['http://127.0.0.1:8080/callback'] })
  const browser = new Browser(app)
  await registerUser(browser)
  const ask = (channel: TestChannel, redirectUri: string) =>
    browser.get(
      `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channel.channelId, redirect_uri: redirectUri, scope: 'openid', state: 's', code_challenge: CHALLENGE, code_challenge_method: 'S256' })}`,
    )
  assert.equal((await ask(native, 'http://127.0.0.1:51234/callback')).statusCode, 303, 'any port on the loopback IP')
  assert.equal((await ask(native, 'http://127.0.0.1:51234/other')).statusCode, 400, 'but the same path')
  assert.equal((await ask(native, 'com.example.app:/oauth')).statusCode, 303, 'a private-use scheme, exactly')
  assert.equal((await ask(web, 'http://127.0.0.1:9090/callback')).statusCode, 400, 'a web channel gets no port exception')
})

test('RFC 6749 §3.1: a parameter given twice is refused', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const browser = new Browser(app)
  const query = `response_type=code&client_id=${channel.channelId}&redirect_uri=${encodeURIComponent(channel.redirectUri)}&scope=openid&state=a&state=b`
  const response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  const location = new URL(String(response.headers.location))
  assert.equal(location.searchParams.get('error'), 'invalid_request')
  assert.match(location.searchParams.get('error_description')!, /state was given more than once/)
  const token = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=authorization_code&code=a&code=b&redirect_uri=x&client_id=${channel.channelId}&client_secret=${channel.secret}`,
  })
  assert.equal(token.statusCode, 400)
  assert.equal(token.json().error, 'invalid_request')
  assert.match(token.json().error_description, /code was given more than once/)
})

// RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0) at /oauth2/v2.1/logout.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel, type TestChannel } from '../helpers/oidc.ts'

/** Logout URLs are their own list, apart from the callback URLs. */
const LOGOUT_URL = 'https://rp.example.com/logged-out'

async function loginToChannel(app: FastifyInstance, channel: TestChannel): Promise<{ browser: Browser; idToken: string }> {
  const browser = new Browser(app)
  await registerUser(browser)
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile',
    state: 's',
  })
  let response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  response = await browser.get(String(response.headers.location))
  response = await browser.post(/action="(\/interaction\/[^"]+\/consent)"/.exec(response.body)![1]!, { decision: 'allow' })
  const code = new URL(String(response.headers.location)).searchParams.get('code')!
  const token = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: channel.redirectUri,
      client_id: channel.channelId,
      client_secret: channel.secret!,
    }).toString(),
  })
  return { browser, idToken: token.json().id_token }
}

test('logout asks for confirmation, ends the session and returns to a registered URL with state', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ logoutUrls: [LOGOUT_URL] })
  const { browser, idToken } = await loginToChannel(app, channel)
  const query = new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL, state: 'bye-123' })
  const page = await browser.get(`/oauth2/v2.1/logout?${query}`)
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /Log out of plusid\?/)
  assert.match(String(page.headers['content-security-policy']), /form-action 'self' https:\/\/rp\.example\.com/)
  assert.equal((await browser.get('/account')).statusCode, 200, 'a GET alone logs nobody out')

  const hidden = Object.fromEntries(
    [...page.body.matchAll(/type="hidden" name="([a-z_]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]),
  )
  delete hidden.csrf_token
  const response = await browser.post('/oauth2/v2.1/logout', { ...hidden, logout: 'yes' })
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, `${LOGOUT_URL}?state=bye-123`)
  assert.equal((await browser.get('/account')).statusCode, 303, 'the session has ended')
})

test('"stay logged in" keeps the session', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ logoutUrls: [LOGOUT_URL] })
  const { browser, idToken } = await loginToChannel(app, channel)
  await browser.get(`/oauth2/v2.1/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL })}`)
  const response = await browser.post('/oauth2/v2.1/logout', { id_token_hint: idToken, post_logout_redirect_uri: LOGOUT_URL, stay: 'yes' })
  assert.equal(response.statusCode, 303)
  assert.equal((await browser.get('/account')).statusCode, 200)
})

test('an unregistered post_logout_redirect_uri or a forged id_token_hint gets an error page, no redirect', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ logoutUrls: [LOGOUT_URL] })
  const { browser, idToken } = await loginToChannel(app, channel)
  const elsewhere = await browser.get(
    `/oauth2/v2.1/logout?${new URLSearchParams({ id_token_hint: idToken, post_logout_redirect_uri: 'https://evil.example/' })}`,
  )
  assert.equal(elsewhere.statusCode, 400)
  assert.equal(elsewhere.headers.location, undefined)
  assert.match(elsewhere.body, /not registered/)
  const forged = await browser.get(
    `/oauth2/v2.1/logout?${new URLSearchParams({ id_token_hint: idToken.slice(0, -4) + 'AAAA', post_logout_redirect_uri: LOGOUT_URL })}`,
  )
  assert.equal(forged.statusCode, 400)
  const noChannel = await browser.get(`/oauth2/v2.1/logout?${new URLSearchParams({ post_logout_redirect_uri: LOGOUT_URL })}`)
  assert.equal(noChannel.statusCode, 400, 'without id_token_hint or client_id nothing says whose URL it is')
  const withClientId = await browser.get(
    `/oauth2/v2.1/logout?${new URLSearchParams({ client_id: channel.channelId, post_logout_redirect_uri: LOGOUT_URL })}`,
  )
  assert.equal(withClientId.statusCode, 200)
})

test('without a session the browser goes straight back', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ logoutUrls: [LOGOUT_URL] })
  const response = await new Browser(app).get(
    `/oauth2/v2.1/logout?${new URLSearchParams({ client_id: channel.channelId, post_logout_redirect_uri: LOGOUT_URL, state: 'x' })}`,
  )
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, `${LOGOUT_URL}?state=x`)
  const plain = await new Browser(app).get('/oauth2/v2.1/logout')
  assert.equal(plain.statusCode, 200)
  assert.match(plain.body, /You are logged out/)
})

test('post_logout_redirect_uri must be a logout URL: a callback URL alone is not one, and matching is exact', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ logoutUrls: [LOGOUT_URL] })
  const refused = async (uri: string) => {
    const response = await new Browser(app).get(
      `/oauth2/v2.1/logout?${new URLSearchParams({ client_id: channel.channelId, post_logout_redirect_uri: uri })}`,
    )
    assert.equal(response.statusCode, 400, uri)
    assert.equal(response.headers.location, undefined)
  }
  await refused(channel.redirectUri)
  await refused(`${LOGOUT_URL}/`)
  await refused(`${LOGOUT_URL}?x=1`)
  const withoutList = await createTestChannel()
  const response = await new Browser(app).get(
    `/oauth2/v2.1/logout?${new URLSearchParams({ client_id: withoutList.channelId, post_logout_redirect_uri: withoutList.redirectUri })}`,
  )
  assert.equal(response.statusCode, 400, 'a channel without logout URLs returns nowhere')
})

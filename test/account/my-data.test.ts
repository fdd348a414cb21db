// Users in control: authorized apps and unlinking, LINE's deauthorize API, the sharing history,
// and browser sessions.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel, type TestChannel } from '../helpers/oidc.ts'

const form = (fields: Record<string, string>) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() })

async function userWithPhone(app: FastifyInstance): Promise<Browser> {
  const browser = new Browser(app)
  await registerUser(browser, { name: 'Taro' })
  const saved = await browser.submit('/account/profile', '/account/profile', { name: 'Taro', phone_number: '090-5555-6666' })
  assert.equal(saved.statusCode, 303)
  return browser
}

/** Authorizes the channel (consent page if shown: allow) and exchanges the code. */
async function login(app: FastifyInstance, browser: Browser, channel: TestChannel, scope = 'openid profile phone') {
  const query = new URLSearchParams({ response_type: 'code', client_id: channel.channelId, redirect_uri: channel.redirectUri, scope, state: 's' })
  let response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  let consentShown = false
  if (response.statusCode === 303) {
    response = await browser.get(String(response.headers.location))
    consentShown = /action="\/interaction\/[^"]+\/consent"/.test(response.body)
    const action = /action="(\/interaction\/[^"]+\/consent)"/.exec(response.body)![1]!
    const items = [...response.body.matchAll(/name="items" value="([a-z_]+)"/g)].map((m) => m[1]!)
    response = await browser.post(action, { items, decision: 'allow' })
  }
  assert.equal(response.statusCode, 302, response.body)
  const code = new URL(String(response.headers.location)).searchParams.get('code')!
  const tokens = await app.inject({ method: 'POST', url: '/oauth2/v2.1/token', ...form({ grant_type: 'authorization_code', code, redirect_uri: channel.redirectUri, client_id: channel.channelId, client_secret: channel.secret! }) })
  assert.equal(tokens.statusCode, 200, tokens.body)
  return { ...(tokens.json() as { access_token: string; refresh_token: string }), consentShown }
}

const userinfo = (app: FastifyInstance, token: string) => app.inject({ method: 'GET', url: '/oauth2/v2.1/userinfo', headers: { authorization: `Bearer ${token}` } })
const refresh = (app: FastifyInstance, channel: TestChannel, token: string) =>
  app.inject({ method: 'POST', url: '/oauth2/v2.1/token', ...form({ grant_type: 'refresh_token', refresh_token: token, client_id: channel.channelId, client_secret: channel.secret! }) })

test('authorized apps list each channel with what was shared; unlinking kills its tokens at once and brings consent back', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ name: 'Shop <One>', items: ['phone', 'email'] })
  const browser = await userWithPhone(app)
  const first = await login(app, browser, channel, 'openid profile phone email')
  assert.equal(first.consentShown, true)
  const page = await browser.get('/account/apps')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /<h2>Shop &lt;One&gt;<\/h2>/)
  assert.match(page.body, /<dt>Shared<\/dt><dd>Phone number, Email<\/dd>/)

  const unlink = await browser.post(`/account/apps/${channel.channelId}/unlink`, {})
  assert.equal(unlink.statusCode, 303)
  assert.equal((await userinfo(app, first.access_token)).statusCode, 401, 'the access token stops working at once')
  const refreshed = await refresh(app, channel, first.refresh_token)
  assert.equal(refreshed.statusCode, 400)
  assert.equal(refreshed.json().error, 'invalid_grant')
  assert.doesNotMatch((await browser.get('/account/apps')).body, /Shop &lt;One&gt;/)
  const again = await login(app, browser, channel, 'openid profile phone email')
  assert.equal(again.consentShown, true, 'the next login asks for consent again')
  assert.equal((await browser.post(`/account/apps/0000000000/unlink`, {})).statusCode, 404)
})

test('POST /user/v1/deauthorize: 204 with the channel token, 400 invalid token for another channel or when done', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ items: ['phone'] })
  const other = await createTestChannel()
  const browser = await userWithPhone(app)
  const tokens = await login(app, browser, channel)
  const channelToken = async (c: TestChannel) =>
    (await app.inject({ method: 'POST', url: '/oauth2/v3/token', ...form({ grant_type: 'client_credentials', client_id: c.channelId, client_secret: c.secret! }) })).json().access_token as string
  const deauthorize = (bearer: string, userAccessToken: string) =>
    app.inject({ method: 'POST', url: '/user/v1/deauthorize', headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' }, payload: { userAccessToken } })

  const wrong = await deauthorize(await channelToken(other), tokens.access_token)
  assert.equal(wrong.statusCode, 400)
  assert.deepEqual(wrong.json(), { message: 'invalid token' })
  assert.equal((await userinfo(app, tokens.access_token)).statusCode, 200, 'another channel cannot unlink this one')
  assert.equal((await deauthorize('not-a-token', tokens.access_token)).statusCode, 401)
  assert.equal((await deauthorize(tokens.access_token, tokens.access_token)).statusCode, 401, 'a user token is not a channel token')

  const bearer = await channelToken(channel)
  const done = await deauthorize(bearer, tokens.access_token)
  assert.equal(done.statusCode, 204)
  assert.equal(done.body, '')
  assert.equal((await userinfo(app, tokens.access_token)).statusCode, 401)
  assert.equal((await refresh(app, channel, tokens.refresh_token)).statusCode, 400)
  const twice = await deauthorize(bearer, tokens.access_token)
  assert.equal(twice.statusCode, 400)
  assert.deepEqual(twice.json(), { message: 'invalid token' })
  assert.equal((await login(app, browser, channel)).consentShown, true)
})

test('the sharing history shows each release newest first: site, items, time — never the values', async (t) => {
  const app = await build(t)
  const shop = await createTestChannel({ name: 'History Shop', items: ['phone'] })
  const news = await createTestChannel({ name: 'History News', items: ['email'] })
  const browser = await userWithPhone(app)
  await login(app, browser, shop)
  await login(app, browser, news, 'openid profile email')
  await login(app, browser, news, 'openid profile') // no data item: not a release
  const page = await browser.get('/account/history')
  assert.equal(page.statusCode, 200)
  const rows = [...page.body.matchAll(/<tr><td>[^<]+<\/td><td>([^<]+)<\/td><td>([^<]+)<\/td><\/tr>/g)].map((m) => `${m[1]}: ${m[2]}`)
  assert.deepEqual(rows, ['History News: Email', 'History Shop: Phone number'])
  assert.doesNotMatch(page.body, /090|\+8190|@example\.com<\/td>/)
})

test('the sessions page lists browsers; a user ends one or all others, never another user\u2019s', async (t) => {
  const app = await build(t)
  const first = new Browser(app, { 'user-agent': 'First Browser/1.0' })
  const account = await registerUser(first)
  const second = new Browser(app, { 'user-agent': 'Second Browser/2.0' })
  await second.submit('/login', '/login', { email: account.email, password: account.password })
  const third = new Browser(app, { 'user-agent': 'Third Browser/3.0' })
  await third.submit('/login', '/login', { email: account.email, password: account.password })

  const page = await first.get('/account/sessions')
  assert.match(page.body, /First Browser\/1\.0 <strong>\(this browser\)<\/strong>/)
  assert.match(page.body, /Second Browser\/2\.0/)
  const secondId = second.cookies.get('plusid_session')!.split('.')[0]!
  assert.equal((await first.post(`/account/sessions/${secondId}/end`, {})).statusCode, 303)
  assert.equal((await second.get('/account')).statusCode, 303, 'the ended session is logged out')
  assert.equal((await third.get('/account')).statusCode, 200)

  const stranger = new Browser(app)
  await registerUser(stranger)
  await stranger.get('/account/sessions')
  const thirdId = third.cookies.get('plusid_session')!.split('.')[0]!
  assert.equal((await stranger.post(`/account/sessions/${thirdId}/end`, {})).statusCode, 404)
  assert.equal((await third.get('/account')).statusCode, 200, 'another user cannot end it')

  await first.get('/account/sessions')
  assert.equal((await first.post('/account/sessions/end-others', {})).statusCode, 303)
  assert.equal((await third.get('/account')).statusCode, 303)
  assert.equal((await first.get('/account')).statusCode, 200, 'the current one stays')
})

// Users in control: authorized apps and unlinking, LINE's deauthorize API, the sharing history,
// and browser sessions.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel, type TestChannel } from '../helpers/oidc.ts'

const ANDROID_CHROME =
  'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36'
const IPHONE_SAFARI =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1'

const form = (fields: Record<string, string>) => ({
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  payload: new URLSearchParams(fields).toString(),
})

async function userWithPhone(app: FastifyInstance): Promise<Browser> {
  const browser = new Browser(app)
  await registerUser(browser, { name: 'Taro' })
  const saved = await browser.submit('/account/profile', '/account/profile', { name: 'Taro', phone_number: '090-5555-6666' })
  assert.equal(saved.statusCode, 303)
  return browser
}

/** Authorizes the channel (consent page if shown: allow) and exchanges the code. */
async function login(app: FastifyInstance, browser: Browser, channel: TestChannel, scope = 'openid profile phone') {
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope,
    state: 's',
  })
  let response = await browser.get(`/oauth2/v2.1/authorize?${query}`)
  let consentShown = false
  if (response.statusCode === 303) {
    response = await browser.get(String(response.headers.location))
    consentShown = /action="\/interaction\/[^"]+\/consent"/.test(response.body)
    const action = /action="(\/interaction\/[^"]+\/consent)"/.exec(response.body)![1]!
    const items = [...response.body.matchAll(/name="items" value="([a-z_]+)"/g)].map((m) => m[1]!)
    response = await browser.post(action, { items, decision: 'allow' })
    assert.equal(response.statusCode, 303, 'a redirect answering a form post is a 303')
  } else {
    assert.equal(response.statusCode, 302, response.body)
  }
  const code = new URL(String(response.headers.location)).searchParams.get('code')!
  const tokens = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    ...form({
      grant_type: 'authorization_code',
      code,
      redirect_uri: channel.redirectUri,
      client_id: channel.channelId,
      client_secret: channel.secret!,
    }),
  })
  assert.equal(tokens.statusCode, 200, tokens.body)
  return { ...(tokens.json() as { access_token: string; refresh_token: string }), consentShown }
}

const userinfo = (app: FastifyInstance, token: string) =>
  app.inject({ method: 'GET', url: '/oauth2/v2.1/userinfo', headers: { authorization: `Bearer ${token}` } })
const refresh = (app: FastifyInstance, channel: TestChannel, token: string) =>
  app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    ...form({ grant_type: 'refresh_token', refresh_token: token, client_id: channel.channelId, client_secret: channel.secret! }),
  })

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
    (
      await app.inject({
        method: 'POST',
        url: '/oauth2/v3/token',
        ...form({ grant_type: 'client_credentials', client_id: c.channelId, client_secret: c.secret! }),
      })
    ).json().access_token as string
  const deauthorize = (bearer: string, userAccessToken: string) =>
    app.inject({
      method: 'POST',
      url: '/user/v1/deauthorize',
      headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
      payload: { userAccessToken },
    })

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
  const rows = [...page.body.matchAll(/<tr><td[^>]*>[^<]+<\/td><td[^>]*>([^<]+)<\/td><td[^>]*>([^<]+)<\/td><\/tr>/g)].map(
    (m) => `${m[1]}: ${m[2]}`,
  )
  assert.deepEqual(rows, ['History News: Email', 'History Shop: Phone number'])
  assert.doesNotMatch(page.body, /090|\+8190|@example\.com<\/td>/)
})

test('the sessions page lists browsers; a user ends one or all others, never another user\u2019s', async (t) => {
  const app = await build(t)
  const first = new Browser(app, { 'user-agent': ANDROID_CHROME })
  const account = await registerUser(first)
  const second = new Browser(app, { 'user-agent': IPHONE_SAFARI })
  await second.submit('/login', '/login', { email: account.email, password: account.password })
  const third = new Browser(app, { 'user-agent': 'Third Browser/3.0' })
  await third.submit('/login', '/login', { email: account.email, password: account.password })

  const page = await first.get('/account/sessions')
  // Each browser by a short name, the full User-Agent kept in its title and under details.
  assert.match(page.body, /<span class="device" title="[^"]*Android 14[^"]*">Chrome on Android<\/span> <strong>\(this browser\)<\/strong>/)
  assert.match(page.body, /<span class="device" title="[^"]*iPhone OS 17_4[^"]*">Safari on iOS<\/span>/)
  assert.match(page.body, /<span class="device" title="Third Browser\/3\.0">unknown<\/span>/)
  assert.ok(page.body.includes(`<code>${IPHONE_SAFARI}</code>`), 'the full string is one tap away')
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

test('the export holds everything plusid keeps about the user', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ name: 'Export Shop', items: ['phone'] })
  const browser = new Browser(app, { 'user-agent': 'Export Browser' })
  const account = await registerUser(browser, { name: 'Exporter' })
  await browser.submit('/account/profile', '/account/profile', {
    name: 'Exporter',
    family_name: '佐藤',
    given_name: '一郎',
    family_name_pronunciation: 'サトウ',
    given_name_pronunciation: 'イチロウ',
    gender: 'male',
    birthdate: '1985-05-05',
    phone_number: '090-7777-8888',
    'address.postal_code': '1000001',
    'address.region': '東京都',
    'address.locality': '千代田区',
    'address.street_address': '千代田1-1',
    'address.country': 'JP',
  })
  await login(app, browser, channel)
  const response = await browser.get('/account/export')
  assert.equal(response.statusCode, 200)
  assert.match(String(response.headers['content-disposition']), /attachment; filename="plusid-export.json"/)
  assert.equal(response.headers['cache-control'], 'no-store')
  const data = response.json()
  assert.equal(data.account.email, account.email)
  assert.equal(data.account.name, 'Exporter')
  assert.deepEqual(data.profile, {
    family_name: '佐藤',
    given_name: '一郎',
    family_name_pronunciation: 'サトウ',
    given_name_pronunciation: 'イチロウ',
    gender: 'male',
    birthdate: '1985-05-05',
    phone_number: '+819077778888',
    address: { postal_code: '1000001', region: '東京都', locality: '千代田区', street_address: '千代田1-1', country: 'JP' },
    updated_at: data.profile.updated_at,
  })
  assert.equal(data.authorized_apps[0].channel, 'Export Shop')
  assert.deepEqual(data.authorized_apps[0].granted, ['openid', 'profile', 'phone'])
  assert.deepEqual(
    data.sharing_history.map((r: { channel: string; items: string[] }) => [r.channel, r.items]),
    [['Export Shop', ['phone']]],
  )
  assert.equal(data.sessions[0].user_agent, 'Export Browser')
  assert.ok(!JSON.stringify(data).includes('argon2'), 'no password hash')
})

test('deleting the account needs the password, ends every token and session, and leaves no trace of the person', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel({ name: 'Delete Shop', items: ['phone'] })
  const browser = new Browser(app)
  const account = await registerUser(browser, { name: 'Deletable Person' })
  await browser.submit('/account/profile', '/account/profile', {
    name: 'Deletable Person',
    family_name: '消去',
    given_name: '太郎',
    family_name_pronunciation: 'ショウキョ',
    given_name_pronunciation: 'タロウ',
    phone_number: '090-4321-8765',
  })
  const tokens = await login(app, browser, channel)
  const other = new Browser(app)
  await other.submit('/login', '/login', { email: account.email, password: account.password })

  const wrong = await browser.submit('/account/delete', '/account/delete', { password: 'not my password' })
  assert.equal(wrong.statusCode, 400)
  assert.match(wrong.body, /is not your password/)
  assert.equal((await userinfo(app, tokens.access_token)).statusCode, 200, 'nothing happened')

  const deleted = await browser.submit('/account/delete', '/account/delete', { password: account.password })
  assert.equal(deleted.statusCode, 200)
  assert.match(deleted.body, /Your account was deleted/)
  assert.equal((await userinfo(app, tokens.access_token)).statusCode, 401)
  assert.equal((await refresh(app, channel, tokens.refresh_token)).statusCode, 400)
  assert.equal((await other.get('/account')).statusCode, 303, 'every session ended')
  const again = await new Browser(app).submit('/login', '/login', { email: account.email, password: account.password })
  assert.equal(again.statusCode, 401, 'the old password logs nobody in')

  // No row of any table holds the email, the name or the phone number in clear text.
  const database = app.database
  const tables = await database.withRawConnection((c) =>
    c.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'",
    ),
  )
  for (const { table_name: table } of tables) {
    const rows = await database.withRawConnection((c) => c.query<{ row: string }>(`SELECT row_to_json(t)::text AS row FROM ${table} t`))
    for (const { row } of rows) {
      for (const value of [
        account.email,
        account.email.toLowerCase(),
        'Deletable Person',
        '消去',
        'ショウキョ',
        '+819043218765',
        '09043218765',
      ]) {
        assert.ok(!row.includes(value), `${table} still holds ${value}: ${row.slice(0, 200)}`)
      }
    }
  }
  const audit = await database.db.selectFrom('audit_log').select(['action', 'actor_id']).where('action', '=', 'account.deleted').execute()
  assert.ok(audit.length >= 1, 'the deletion itself is audited, under the id only')
})

test('"last seen" follows use, written at most every five minutes', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const id = browser.cookies.get('plusid_session')!.split('.')[0]!
  const hourAgo = new Date(Date.now() - 3600 * 1000)
  await app.database.db.updateTable('sessions').set({ last_seen_at: hourAgo }).where('id', '=', id).execute()
  assert.equal((await browser.get('/account')).statusCode, 200)
  const seen = (await app.database.db.selectFrom('sessions').select('last_seen_at').where('id', '=', id).executeTakeFirstOrThrow())
    .last_seen_at
  assert.ok(seen.getTime() > Date.now() - 60 * 1000, 'updated on use')
  const queries: string[] = []
  const stop = app.database.watchQueries((event) => queries.push(event.query.sql))
  await browser.get('/account')
  stop()
  assert.ok(!queries.some((sql) => sql.startsWith('update "sessions"')), 'not again within five minutes')
})

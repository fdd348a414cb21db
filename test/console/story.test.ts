// The review workflow end to end, through HTTP: an owner registers a channel and applies for
// phone and address; until an administrator approves, asking for phone is refused before any
// page; the administrator approves phone and rejects address with a reason; the next login shows
// phone on the consent page and releases it; the owner sees the reason; a suspension stops phone
// at the next refresh, at userinfo and at the next authorization. The audit log holds each step
// and none of the values.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keyring } from '../../src/crypto/keyring.ts'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const database = await testDatabase()
const CALLBACK = 'https://shop.example/callback'

async function makeAdmin(email: string) {
  await database.db.updateTable('users').set({ is_admin: true }).where('email_hmac', '=', keyring().emailHmac(email)).execute()
}

function authorizeUrl(channelId: string, scope: string, state = 'st') {
  return `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channelId, redirect_uri: CALLBACK, scope, state, nonce: 'n' })}`
}

async function token(app: FastifyInstance, fields: Record<string, string>) {
  return app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  })
}

test('apply → refused until approved → approve phone, reject address → consent releases phone → suspension stops it', async (t) => {
  const app = await build(t)

  // The owner: a provider and a web channel, created in the console; the secret is shown once.
  const owner = new Browser(app)
  const ownerAccount = await registerUser(owner, { name: 'Owner' })
  let response = await owner.submit('/console', '/console/providers', { name: `Shop Inc ${Date.now()}` })
  assert.equal(response.statusCode, 303)
  const providerPath = String(response.headers.location)
  response = await owner.submit(providerPath, `${providerPath}/channels`, {
    name: 'Shop',
    kind: 'web',
    callback_urls: `${CALLBACK}\nhttp://localhost:8080/callback`,
    id_token_alg: 'ES256',
    description: 'An online shop',
    icon_url: '',
    privacy_policy_url: 'https://shop.example/privacy',
  })
  // The answer to the form is a redirect; the secret is shown on the GET it leads to, once.
  assert.equal(response.statusCode, 303)
  const secretPage = String(response.headers.location)
  response = await owner.get(secretPage)
  assert.equal(response.statusCode, 200)
  assert.equal(response.headers['cache-control'], 'no-store')
  const channelId = /class="channel-id">(\d{10})</.exec(response.body)![1]!
  const secret = /class="channel-secret">([0-9a-f]{32})</.exec(response.body)![1]!
  assert.match(response.body, /shown only once/)
  const reload = await owner.get(secretPage)
  assert.equal(reload.statusCode, 410, 'a reload shows nothing new')
  assert.match(reload.body, /shown once already/)
  assert.doesNotMatch(reload.body, /class="channel-secret"/)
  const channelPath = `/console/channels/${channelId}`
  const consolePage = (await owner.get(channelPath)).body
  assert.doesNotMatch(consolePage, new RegExp(secret), 'the secret is never shown again')
  // What a developer pastes into a library: the issuer, the discovery URL, ready-made snippets.
  assert.match(consolePage, /class="issuer">http:\/\/localhost(:\d+)?</)
  assert.match(consolePage, /class="discovery-url">http:\/\/localhost(:\d+)?\/\.well-known\/openid-configuration</)
  for (const library of ['openid-client', 'Auth.js', 'passport-line-auth']) assert.match(consolePage, new RegExp(`<summary>${library}`))
  assert.match(consolePage, new RegExp(`channelID: &quot;${channelId}&quot;`))
  assert.match(consolePage, /id_token_signed_response_alg: &quot;ES256&quot;/, 'the snippets name the channel’s algorithm')

  // Applications for phone and address in one form, with one purpose and policy.
  response = await owner.submit(channelPath, `${channelPath}/applications`, {
    items: ['phone', 'address'],
    purpose: 'We deliver orders to you and call when a parcel waits.',
    policy_url: 'https://shop.example/privacy',
  })
  assert.equal(response.statusCode, 303, response.body)
  const bad = await owner.submit(channelPath, `${channelPath}/applications`, { purpose: 'short', policy_url: 'http://insecure.example/' })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /Purpose must say in at least 10 characters/)
  assert.match(bad.body, /must be an https URL/)
  assert.match(bad.body, /choose at least one item/)
  assert.doesNotMatch(bad.body, /id="apply-phone"/, 'items waiting for review are not offered again')
  assert.match(bad.body, /id="apply-email"/)
  response = await owner.submit(channelPath, `${channelPath}/applications`, {
    items: ['email', 'phone'],
    purpose: 'We deliver orders and need your phone.',
    policy_url: 'https://shop.example/privacy',
  })
  assert.equal(response.statusCode, 409, 'one waiting application per item')
  assert.equal(
    (
      await app.db
        .selectFrom('permission_applications')
        .select('id')
        .where('channel_id', '=', channelId)
        .where('item', '=', 'email')
        .execute()
    ).length,
    0,
    'all or nothing: email was not applied for either',
  )
  response = await owner.submit(channelPath, `${channelPath}/publish`, {})
  assert.equal(response.statusCode, 303)

  // A user with Profile+ data.
  const user = new Browser(app)
  await registerUser(user, { name: 'Hanako' })
  response = await user.submit('/account/profile', '/account/profile', {
    name: 'Hanako',
    family_name: '山田',
    given_name: '花子',
    family_name_pronunciation: 'ヤマダ',
    given_name_pronunciation: 'ハナコ',
    phone_number: '090-2222-3333',
    'address.postal_code': '102-8282',
    'address.region': '東京都',
    'address.locality': '千代田区',
    'address.street_address': '1番3号',
    'address.country': 'JP',
  })
  assert.equal(response.statusCode, 303)

  // Before approval: refused with invalid_scope before any page is shown.
  response = await user.get(authorizeUrl(channelId, 'openid profile phone'))
  assert.equal(response.statusCode, 302)
  let callback = new URL(String(response.headers.location))
  assert.equal(callback.origin + callback.pathname, CALLBACK)
  assert.equal(callback.searchParams.get('error'), 'invalid_scope')
  // The console tells the owner which item was refused, and why.
  assert.match((await owner.get(channelPath)).body, /Requests asked for phone, which this channel is not permitted to receive/)

  // The administrator: phone approved, address rejected with a reason.
  const admin = new Browser(app)
  const adminAccount = await registerUser(admin, { name: 'Admin' })
  await makeAdmin(adminAccount.email)
  const queue = await admin.get('/admin')
  assert.equal(queue.statusCode, 200)
  const applicationIds = Object.fromEntries(
    [...queue.body.matchAll(/<section class="card application" id="application-([0-9a-f-]{36})" data-item="([a-z_]+)">/g)].map((m) => [
      m[2]!,
      m[1]!,
    ]),
  )
  assert.ok(applicationIds.phone && applicationIds.address, queue.body)
  assert.match(queue.body, /We deliver orders to you and call when a parcel waits\./)
  assert.match(queue.body, /https:\/\/shop\.example\/privacy/)
  // Both were applied for in one form, so they are equally old: the queue's oldest-first order is
  // checked in test/storage/pagination.test.ts.
  response = await admin.post(`/admin/applications/${applicationIds.phone}/approve`, {})
  assert.equal(response.statusCode, 303)
  await admin.get('/admin')
  const noReason = await admin.post(`/admin/applications/${applicationIds.address}/reject`, { reason: '' })
  assert.equal(noReason.statusCode, 400)
  response = await admin.post(`/admin/applications/${applicationIds.address}/reject`, {
    reason: 'Your policy does not say how long addresses are kept.',
  })
  assert.equal(response.statusCode, 303)

  // The owner sees the outcome and the reviewer's reason.
  const channelPage = (await owner.get(channelPath)).body
  assert.match(channelPage, /<tr class="permission-phone"><td>Phone number <code>phone<\/code><\/td><td class="state">approved<\/td>/)
  assert.match(
    channelPage,
    /<tr class="permission-address"><td>Address <code>address<\/code><\/td><td class="state">rejected<\/td><td>Reason: Your policy does not say how long addresses are kept\.<\/td>/,
  )

  // The next login shows phone on the consent page, with its value, and releases it.
  response = await user.get(authorizeUrl(channelId, 'openid profile phone'))
  assert.equal(response.statusCode, 303)
  const consentPage = await user.get(String(response.headers.location))
  assert.match(consentPage.body, /name="items" value="phone" checked/)
  assert.match(consentPage.body, /090-2222-3333/)
  const consentAction = /action="(\/interaction\/[^"]+\/consent)"/.exec(consentPage.body)![1]!
  response = await user.post(consentAction, { items: 'phone', decision: 'allow' })
  assert.equal(response.statusCode, 303)
  callback = new URL(String(response.headers.location))
  response = await token(app, {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code')!,
    redirect_uri: CALLBACK,
    client_id: channelId,
    client_secret: secret,
  })
  assert.equal(response.statusCode, 200, response.body)
  const tokens = response.json()
  const idToken = JSON.parse(Buffer.from(tokens.id_token.split('.')[1], 'base64url').toString())
  assert.equal(idToken.phone_number, '+819022223333')
  const userinfo = async (accessToken: string) =>
    (await app.inject({ method: 'GET', url: '/oauth2/v2.1/userinfo', headers: { authorization: `Bearer ${accessToken}` } })).json()
  assert.equal((await userinfo(tokens.access_token)).phone_number, '+819022223333')
  // Asking for the rejected address is refused before any page.
  response = await user.get(authorizeUrl(channelId, 'openid profile address'))
  assert.equal(new URL(String(response.headers.location)).searchParams.get('error'), 'invalid_scope')

  // The administrator suspends phone (through the JSON API with an API token).
  const { token: apiToken } = await createAdminToken(
    database.db,
    (
      await database.db
        .selectFrom('users')
        .select('id')
        .where('email_hmac', '=', keyring().emailHmac(adminAccount.email))
        .executeTakeFirstOrThrow()
    ).id,
  )
  response = await app.inject({
    method: 'POST',
    url: `/admin/api/channels/${channelId}/permissions/phone/suspend`,
    headers: { authorization: `Bearer ${apiToken}`, 'content-type': 'application/json' },
    payload: { reason: 'Complaints about calls' },
  })
  assert.equal(response.statusCode, 200, response.body)
  // userinfo no longer releases it, even with the token issued before.
  const after = await userinfo(tokens.access_token)
  assert.equal(after.phone_number, undefined)
  assert.equal(after.name, 'Hanako')
  // The refresh grant no longer grants it.
  response = await token(app, {
    grant_type: 'refresh_token',
    refresh_token: tokens.refresh_token,
    client_id: channelId,
    client_secret: secret,
  })
  assert.equal(response.statusCode, 200)
  assert.ok(!response.json().scope.split(' ').includes('phone'))
  assert.equal((await userinfo(response.json().access_token)).phone_number, undefined)
  // A new authorization asking for it is refused.
  response = await user.get(authorizeUrl(channelId, 'openid profile phone'))
  assert.equal(new URL(String(response.headers.location)).searchParams.get('error'), 'invalid_scope')
  assert.match(
    (await owner.get(channelPath)).body,
    /<tr class="permission-phone"><td>Phone number <code>phone<\/code><\/td><td class="state">suspended<\/td>/,
  )

  // The audit log holds each step, and none of the values.
  const audit = await app.inject({
    method: 'GET',
    url: `/admin/api/audit?object=${channelId}&limit=100`,
    headers: { authorization: `Bearer ${apiToken}` },
  })
  assert.equal(audit.statusCode, 200)
  const actions = (audit.json().items as { action: string; details: Record<string, unknown> }[]).map(
    (e) => `${e.action}:${JSON.stringify(e.details.item ?? e.details.items ?? e.details.granted ?? '')}`,
  )
  for (const expected of [
    'channel.created:""',
    'application.submitted:"phone"',
    'application.submitted:"address"',
    'channel.published:""',
    'application.approved:"phone"',
    'application.rejected:"address"',
    'consent.decided:["openid","profile","phone"]',
    'data.released:["phone"]',
    'permission.suspended:"phone"',
  ]) {
    assert.ok(actions.includes(expected), `${expected} in ${actions.join(', ')}`)
  }
  const everything = await admin.get('/admin/audit.jsonl')
  assert.equal(everything.statusCode, 200)
  const lines = everything.body
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line))
  assert.ok(lines.some((e) => e.action === 'login.succeeded' || e.action === 'account.registered'))
  assert.ok(lines.some((e) => e.action === 'profile.updated'))
  for (const value of [
    '+819022223333',
    '09022223333',
    '山田',
    'ヤマダ',
    '千代田区',
    '1028282',
    ownerAccount.email,
    adminAccount.email,
    secret,
  ]) {
    assert.ok(!everything.body.includes(value), `the audit log contains ${value}`)
  }
  // Append-only: the database refuses to change or delete an entry.
  await assert.rejects(database.db.deleteFrom('audit_log').execute(), /append-only/)
  await assert.rejects(database.db.updateTable('audit_log').set({ action: 'x' }).execute(), /append-only/)
})

test('console forms validate every field and say what is wrong next to it', async (t) => {
  const app = await build(t)
  const owner = new Browser(app)
  await registerUser(owner)
  let response = await owner.submit('/console', '/console/providers', { name: '' })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /Provider name is required/)
  const name = `Validation Inc ${Date.now()}`
  response = await owner.submit('/console', '/console/providers', { name })
  const providerPath = String(response.headers.location)
  const taken = await owner.submit('/console', '/console/providers', { name })
  assert.equal(taken.statusCode, 400)
  assert.match(taken.body, /is already taken/)

  const bad = await owner.submit(providerPath, `${providerPath}/channels`, {
    name: '',
    kind: 'web',
    callback_urls: 'http://shop.example/cb\nhttps://shop.example/cb#top\nhttps://*.shop.example/cb\nnot a url',
    id_token_alg: 'none',
    description: 'x'.repeat(501),
    icon_url: 'javascript:alert(1)',
    privacy_policy_url: 'ftp://shop.example/privacy',
  })
  assert.equal(bad.statusCode, 400)
  assert.match(bad.body, /Channel name is required/)
  assert.match(bad.body, /http:\/\/shop\.example\/cb must use https/)
  assert.match(bad.body, /#top must not contain a fragment/)
  assert.match(bad.body, /must not contain a wildcard/)
  assert.match(bad.body, /not a url must be an absolute URL/)
  assert.match(bad.body, /ID token algorithm must be ES256, RS256 or HS256/)
  assert.match(bad.body, /Description must be at most 500 characters/)
  assert.match(bad.body, /Icon URL must be an https URL/)
  assert.match(bad.body, /Privacy policy URL must be an https URL/)
  assert.match(bad.body, /aria-describedby="field-callback_urls-error"/)
  assert.match(bad.body, /javascript:alert\(1\)/, 'what was typed comes back (escaped) for correction')
  const providerId = providerPath.split('/').pop()!
  const channels = await database.db.selectFrom('channels').select('id').where('provider_id', '=', providerId).execute()
  assert.equal(channels.length, 0, 'nothing was created')

  const spa = await owner.submit(providerPath, `${providerPath}/channels`, {
    name: 'App',
    kind: 'spa',
    callback_urls: 'https://app.example/cb',
    id_token_alg: 'HS256',
  })
  assert.equal(spa.statusCode, 400)
  assert.match(spa.body, /HS256 needs a channel secret/)
  const localhost = await owner.submit(providerPath, `${providerPath}/channels`, {
    name: 'Dev',
    kind: 'spa',
    callback_urls: 'http://localhost:5173/cb\nhttp://127.0.0.1:5173/cb',
    id_token_alg: 'ES256',
  })
  assert.equal(localhost.statusCode, 303, 'http is fine on localhost; a public channel has no secret page')
})

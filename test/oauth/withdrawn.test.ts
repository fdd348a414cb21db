// What a user withdrew stays withdrawn, as a relying party (openid-client) and an administrator
// see it: every release point computes the claims at that moment from the token's scope, the
// user's current grant and the channel's approved permissions; introspection says inactive for a
// token that cannot be used; codes belong to their channel; administrators' API tokens expire, are
// listed and revoked, and die with their owner's access. (The races are in
// test/security/withdrawn-races.test.ts.)
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as client from 'openid-client'
import { runCli } from '../../src/cli/main.ts'
import { setAdministrator } from '../../src/storage/users.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { testDatabase } from '../helpers/database.ts'
import {
  authorizeInBrowser,
  createTestChannel,
  createTestUser,
  relyingParty,
  startServer,
  WebBrowser,
  type TestChannel,
  type TestUser,
} from '../helpers/oidc.ts'

const database = await testDatabase()

async function cli(...argv: string[]) {
  let stdout = ''
  let stderr = ''
  const code = await runCli(
    argv,
    { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} },
    { database, masterKey: TEST_MASTER_KEY },
  )
  return { code, stdout, stderr, json: () => JSON.parse(stdout) as Record<string, unknown> }
}

interface Started {
  url: URL
  state: string
  nonce: string
  verifier: string
}

async function start(rp: client.Configuration, channel: TestChannel, scope: string, extra: Record<string, string> = {}): Promise<Started> {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: channel.redirectUri,
    scope,
    state,
    nonce,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    ...extra,
  })
  return { url, state, nonce, verifier }
}

const exchange = (rp: client.Configuration, callback: URL, started: Started) =>
  client.authorizationCodeGrant(rp, callback, {
    pkceCodeVerifier: started.verifier,
    expectedState: started.state,
    expectedNonce: started.nonce,
  })

async function introspect(issuer: string, channel: TestChannel, token: string): Promise<Record<string, unknown>> {
  const response = await fetch(`${issuer}/oauth2/v2.1/introspect`, {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      authorization: `Basic ${Buffer.from(`${channel.channelId}:${channel.secret}`).toString('base64')}`,
    },
    body: new URLSearchParams({ token }).toString(),
  })
  assert.equal(response.status, 200)
  return (await response.json()) as Record<string, unknown>
}

async function adminApi(issuer: string, token: string, method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(`${issuer}/admin/api${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
}

async function newAdmin(): Promise<TestUser & { token: string }> {
  const admin = await createTestUser({ profile: null, name: 'Admin' })
  await setAdministrator(database.db, admin.userId, true)
  const created = await cli('admin', 'token', '--email', admin.email, '--json')
  assert.equal(created.code, 0, created.stderr)
  return { ...admin, token: created.json().token as string }
}

test('2. consent withdrawn on a prompt=consent page: the earlier refresh and access tokens stop releasing the items at once', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'phone', 'address'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const scope = 'openid profile email phone address'

  const first = await start(rp, channel, scope)
  const earlier = await exchange(rp, await authorizeInBrowser(browser, issuer, first.url.href, { user }), first)
  const sub = earlier.claims()!.sub
  assert.equal((await client.fetchUserInfo(rp, earlier.access_token, sub)).email, user.email, 'shared at first')

  // The user unchecks the three items on a new consent page.
  const again = await start(rp, channel, scope, { prompt: 'consent' })
  const narrowed = await exchange(
    rp,
    await authorizeInBrowser(browser, issuer, again.url.href, { user, uncheck: ['email', 'phone', 'address'] }),
    again,
  )
  assert.equal(narrowed.scope, 'openid profile')
  for (const claim of ['email', 'phone_number', 'address'])
    assert.equal(narrowed.claims()![claim], undefined, `${claim} is not in the new ID token`)

  // The earlier access token no longer returns them at userinfo, nor at introspection or verify.
  const oldInfo = await client.fetchUserInfo(rp, earlier.access_token, sub)
  assert.equal(oldInfo.email, undefined)
  assert.equal(oldInfo.phone_number, undefined)
  assert.equal(oldInfo.address, undefined)
  assert.equal(oldInfo.name, 'Hanako', 'what stays granted still flows')
  assert.equal((await introspect(issuer, channel, earlier.access_token)).scope, 'openid profile')
  const verified = (await (await fetch(`${issuer}/oauth2/v2.1/verify?access_token=${earlier.access_token}`)).json()) as { scope: string }
  assert.equal(verified.scope, 'openid profile')

  // Refreshing the earlier refresh token releases them no more either.
  const refreshed = await client.refreshTokenGrant(rp, earlier.refresh_token!)
  assert.equal(refreshed.scope, 'openid profile')
  const info = await client.fetchUserInfo(rp, refreshed.access_token, sub)
  assert.equal(info.email, undefined)
  assert.equal(info.phone_number, undefined)

  // What the user's pages say matches what flows: not shared, and no new release recorded.
  const apps = await browser.get(`${issuer}/account/apps`)
  assert.equal(apps.status, 200)
  const card = browser.lastPage.slice(browser.lastPage.indexOf(`id="app-${channel.channelId}"`))
  assert.match(card, /Not shared<\/dt><dd>[^<]*Email/)
  const releases = await database.db
    .selectFrom('audit_log')
    .select('details')
    .where('actor_id', '=', user.userId)
    .where('action', '=', 'data.released')
    .orderBy('id')
    .execute()
  assert.equal(releases.length, 1, 'only the first exchange released data items')
  assert.deepEqual((releases[0]!.details as { items: string[] }).items.sort(), ['address', 'email', 'phone'])
})

test("3. an item suspended while the consent page is open, or while a returning user's code is in flight, is not released", async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'phone'] })
  const user = await createTestUser()
  const admin = await newAdmin()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const scope = 'openid profile email phone'

  // The consent page is open when the administrator suspends phone.
  const first = await start(rp, channel, scope)
  const loginPage = await browser.follow(first.url.href, issuer)
  assert.ok('page' in loginPage)
  const login = await browser.post(new URL(browser.formAction(), issuer).href, { email: user.email, password: user.password })
  assert.equal(login.status, 303)
  const consentPage = await browser.follow(new URL(login.headers.get('location')!, issuer).href, issuer)
  assert.ok('page' in consentPage)
  assert.match(browser.lastPage, /name="items" value="phone"/, 'the page offers phone')
  const suspended = await adminApi(issuer, admin.token, 'POST', `/channels/${channel.channelId}/permissions/phone/suspend`, {
    reason: 'under review',
  })
  assert.equal(suspended.status, 200, await suspended.text())
  const consent = await browser.post(new URL(browser.formAction(), issuer).href, { items: ['email', 'phone'], decision: 'allow' })
  assert.equal(consent.status, 303)
  const callback = new URL(consent.headers.get('location')!)
  const tokens = await exchange(rp, callback, first)
  assert.equal(tokens.claims()!.phone_number, undefined, 'not in the ID token')
  assert.equal(tokens.claims()!.email, user.email, 'the approved item still is')
  assert.ok(!tokens.scope!.split(' ').includes('phone'))
  assert.equal((await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).phone_number, undefined)

  // A returning user's code issued before a suspension, exchanged after it.
  const returning = await start(rp, channel, 'openid profile email')
  const code = await authorizeInBrowser(browser, issuer, returning.url.href, { user })
  assert.equal(
    (await adminApi(issuer, admin.token, 'POST', `/channels/${channel.channelId}/permissions/email/suspend`, { reason: 'under review' }))
      .status,
    200,
  )
  const late = await exchange(rp, code, returning)
  assert.equal(late.claims()!.email, undefined, 'email was suspended while the code was in flight')
  assert.equal(late.scope, 'openid profile')
})

test("4. introspection answers active:false for a suspended channel's tokens and narrows a suspended item; a suspended channel gets no client_credentials token", async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'phone'] })
  const user = await createTestUser()
  const admin = await newAdmin()
  const rp = await relyingParty(issuer, channel)
  const started = await start(rp, channel, 'openid profile email phone')
  const tokens = await exchange(rp, await authorizeInBrowser(new WebBrowser(), issuer, started.url.href, { user }), started)
  assert.equal((await introspect(issuer, channel, tokens.access_token)).scope, 'openid profile email phone')

  assert.equal((await adminApi(issuer, admin.token, 'POST', `/channels/${channel.channelId}/permissions/phone/suspend`, {})).status, 200)
  const narrowed = await introspect(issuer, channel, tokens.access_token)
  assert.equal(narrowed.active, true)
  assert.equal(narrowed.scope, 'openid profile email')
  assert.equal((await introspect(issuer, channel, tokens.refresh_token!)).scope, 'openid profile email')

  assert.equal((await adminApi(issuer, admin.token, 'POST', `/channels/${channel.channelId}/suspend`, { reason: 'abuse' })).status, 200)
  assert.deepEqual(await introspect(issuer, channel, tokens.access_token), { active: false })
  assert.deepEqual(await introspect(issuer, channel, tokens.refresh_token!), { active: false })
  const channelToken = await fetch(`${issuer}/oauth2/v3/token`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: channel.channelId,
      client_secret: channel.secret!,
    }).toString(),
  })
  assert.equal(channelToken.status, 400)
  assert.equal(((await channelToken.json()) as { error: string }).error, 'unauthorized_client')
  await assert.rejects(
    client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub),
    (error: client.WWWAuthenticateChallengeError) => error.status === 401,
  )
})

test("5. an administrator's API token: listed, revoked, expiring, and dead when its owner is disabled, changes password or loses the role; every use audited", async (t) => {
  const { issuer } = await startServer(t)
  const admin = await newAdmin()
  const other = await newAdmin()

  // Every use is audited, naming the token and the route.
  assert.equal((await adminApi(issuer, admin.token, 'GET', '/applications')).status, 200)
  const listed = await cli('admin', 'token', 'list', '--email', admin.email, '--json')
  assert.equal(listed.code, 0, listed.stderr)
  const items = listed.json().items as { token_id: string; created_at: string; expires_at: string; last_used_at: string | null }[]
  assert.equal(items.length, 1)
  assert.deepEqual(Object.keys(items[0]!).sort(), ['created_at', 'expires_at', 'last_used_at', 'token_id'])
  assert.ok(items[0]!.last_used_at, 'the use is recorded')
  const days = (Date.parse(items[0]!.expires_at) - Date.now()) / 86_400_000
  assert.ok(days > 89.9 && days <= 90, `90 days by default (${days})`)
  const used = await database.db
    .selectFrom('audit_log')
    .select(['actor_id', 'actor_kind', 'object_id', 'details'])
    .where('action', '=', 'admin_token.used')
    .where('object_id', '=', items[0]!.token_id)
    .execute()
  assert.equal(used.length, 1)
  assert.equal(used[0]!.actor_id, admin.userId)
  assert.deepEqual(used[0]!.details, { method: 'GET', route: '/admin/api/applications' })

  // Revoked from the command line.
  const revoked = await cli('admin', 'token', 'revoke', items[0]!.token_id, '--json')
  assert.equal(revoked.code, 0, revoked.stderr)
  assert.deepEqual(revoked.json(), { revoked: true })
  assert.equal((await adminApi(issuer, admin.token, 'GET', '/applications')).status, 401)
  const twice = await cli('admin', 'token', 'revoke', items[0]!.token_id, '--json')
  assert.equal(twice.code, 1)
  assert.equal(JSON.parse(twice.stderr).error, 'unknown_token')
  assert.equal((await cli('admin', 'token', 'revoke', 'not-an-id', '--json')).code, 2)

  // --expires-in, and an expired token.
  const short = await cli('admin', 'token', '--email', admin.email, '--expires-in', '3600', '--json')
  assert.equal(short.code, 0, short.stderr)
  const shortJson = short.json() as { token: string; token_id: string; expires_at: string }
  assert.ok(Math.abs(Date.parse(shortJson.expires_at) - Date.now() - 3600_000) < 60_000)
  assert.equal((await adminApi(issuer, shortJson.token, 'GET', '/applications')).status, 200)
  assert.equal((await cli('admin', 'token', '--email', admin.email, '--expires-in', 'soon', '--json')).code, 2)
  const expired = await createAdminToken(database.db, admin.userId, new Date(Date.now() - 1000))
  assert.equal((await adminApi(issuer, expired.token, 'GET', '/applications')).status, 401)

  // A password change ends the owner's tokens.
  const browser = new WebBrowser()
  await browser.get(`${issuer}/login`)
  assert.equal((await browser.post(`${issuer}/login`, { email: admin.email, password: admin.password })).status, 303)
  await browser.get(`${issuer}/account/password`)
  assert.equal(
    (
      await browser.post(`${issuer}/account/password`, {
        current_password: admin.password,
        new_password: 'a new admin password',
        new_password_again: 'a new admin password',
      })
    ).status,
    303,
  )
  const afterPassword = await adminApi(issuer, shortJson.token, 'GET', '/applications')
  assert.equal(afterPassword.status, 401)
  assert.equal(((await afterPassword.json()) as { error: string }).error, 'invalid_token')

  // A disable ends them (the other administrator disables this one on the admin pages).
  const fresh = (await cli('admin', 'token', '--email', admin.email, '--json')).json().token as string
  assert.equal((await adminApi(issuer, fresh, 'GET', '/applications')).status, 200)
  assert.equal((await adminApi(issuer, other.token, 'GET', '/users')).status, 200)
  const otherBrowser = new WebBrowser()
  await otherBrowser.get(`${issuer}/login`)
  await otherBrowser.post(`${issuer}/login`, { email: other.email, password: other.password })
  await otherBrowser.get(`${issuer}/admin/users?q=${encodeURIComponent(admin.email)}`)
  assert.equal((await otherBrowser.post(`${issuer}/admin/users/${admin.userId}/disable`, {})).status, 303)
  assert.equal((await adminApi(issuer, fresh, 'GET', '/applications')).status, 401)
  await otherBrowser.get(`${issuer}/admin/users?q=${encodeURIComponent(admin.email)}`)
  assert.equal((await otherBrowser.post(`${issuer}/admin/users/${admin.userId}/enable`, {})).status, 303)
  assert.equal((await adminApi(issuer, fresh, 'GET', '/applications')).status, 401, 'enabling again does not revive it')

  // Losing the role ends them too, for good.
  const roleToken = (await cli('admin', 'token', '--email', admin.email, '--json')).json().token as string
  await setAdministrator(database.db, admin.userId, false)
  assert.equal((await adminApi(issuer, roleToken, 'GET', '/applications')).status, 401)
  await setAdministrator(database.db, admin.userId, true)
  assert.equal((await adminApi(issuer, roleToken, 'GET', '/applications')).status, 401, 'the role given back does not revive it')

  // The admin page lists the live tokens and revokes one.
  const pageToken = (await cli('admin', 'token', '--email', other.email, '--json')).json() as { token: string; token_id: string }
  const page = await otherBrowser.get(`${issuer}/admin/tokens`)
  assert.equal(page.status, 200)
  assert.ok(otherBrowser.lastPage.includes(pageToken.token_id))
  assert.ok(otherBrowser.lastPage.includes(other.email))
  assert.ok(!otherBrowser.lastPage.includes(pageToken.token), 'the token itself is never shown again')
  const revokedOnPage = await otherBrowser.post(`${issuer}/admin/tokens/${pageToken.token_id}/revoke`, {})
  assert.equal(revokedOnPage.status, 303)
  assert.equal(revokedOnPage.headers.get('location'), '/admin/tokens?done=revoked')
  assert.equal((await adminApi(issuer, pageToken.token, 'GET', '/applications')).status, 401)
  await otherBrowser.get(`${issuer}/admin/tokens`)
  assert.ok(!otherBrowser.lastPage.includes(pageToken.token_id))
  assert.equal((await otherBrowser.post(`${issuer}/admin/tokens/${pageToken.token_id}/revoke`, {})).status, 404)
  const audit = await database.db
    .selectFrom('audit_log')
    .select(['actor_id', 'actor_kind'])
    .where('action', '=', 'admin_token.revoked')
    .where('object_id', '=', pageToken.token_id)
    .execute()
  assert.deepEqual(audit, [{ actor_id: other.userId, actor_kind: 'admin' }])
})

test("7. a code belongs to its channel: another channel's id, even a public one's, neither burns a fresh code nor revokes what a used one issued", async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const spa = await createTestChannel({ kind: 'spa' })
  const otherWeb = await createTestChannel()
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const post = (fields: Record<string, string>, authorization?: string) =>
    fetch(`${issuer}/oauth2/v2.1/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(authorization ? { authorization } : {}) },
      body: new URLSearchParams(fields).toString(),
    })
  const basic = (c: TestChannel, secret = c.secret!) => `Basic ${Buffer.from(`${c.channelId}:${secret}`).toString('base64')}`

  const started = await start(rp, channel, 'openid profile')
  const callback = await authorizeInBrowser(browser, issuer, started.url.href, { user })
  const fields = {
    grant_type: 'authorization_code',
    code: callback.searchParams.get('code')!,
    redirect_uri: channel.redirectUri,
    code_verifier: started.verifier,
  }
  // A public channel's id with no secret, another web channel with its own secret, and the
  // right channel with a wrong secret: all refused, and the code is still fresh.
  const asSpa = await post({ ...fields, client_id: spa.channelId })
  assert.equal(asSpa.status, 400)
  assert.equal(((await asSpa.json()) as { error: string }).error, 'invalid_grant')
  assert.equal((await post(fields, basic(otherWeb))).status, 400)
  assert.equal((await post(fields, basic(channel, 'f'.repeat(32)))).status, 401)
  const tokens = await exchange(rp, callback, started)
  assert.ok(tokens.access_token, 'the channel redeems its code after all of that')

  // The used code presented by another channel revokes nothing; by its own channel it does.
  assert.equal(((await (await post({ ...fields, client_id: spa.channelId })).json()) as { error: string }).error, 'invalid_grant')
  assert.equal(((await (await post(fields, basic(otherWeb))).json()) as { error: string }).error, 'invalid_grant')
  assert.equal((await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)).sub, tokens.claims()!.sub, 'still valid')
  const reuse = await post(fields, basic(channel))
  assert.equal(((await reuse.json()) as { error_description: string }).error_description, 'authorization code already used')
  await assert.rejects(
    client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub),
    (error: client.WWWAuthenticateChallengeError) => error.status === 401,
  )
})

test('what a relying party sees when a token dies: invalid_grant at the token endpoint, invalid_token at userinfo, active:false at introspection', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const started = await start(rp, channel, 'openid profile email')
  const tokens = await exchange(rp, await authorizeInBrowser(browser, issuer, started.url.href, { user }), started)
  await browser.get(`${issuer}/account/apps`)
  assert.equal((await browser.post(`${issuer}/account/apps/${channel.channelId}/unlink`, {})).status, 303)
  await assert.rejects(
    client.refreshTokenGrant(rp, tokens.refresh_token!),
    (error: client.ResponseBodyError) => error.error === 'invalid_grant',
  )
  await assert.rejects(
    client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub),
    (error: client.WWWAuthenticateChallengeError) => {
      assert.equal(error.status, 401)
      assert.equal(error.cause[0]?.parameters.error, 'invalid_token')
      return true
    },
  )
  assert.deepEqual(await introspect(issuer, channel, tokens.access_token), { active: false })
  const profile = await fetch(`${issuer}/v2/profile`, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  assert.equal(profile.status, 401)
})

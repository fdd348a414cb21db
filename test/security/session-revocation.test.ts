// Ending access when the credentials or the account change. OWASP ASVS V7.4 (session termination:
// a password change ends every other session; a disabled account's sessions end at once), RFC
// 6819 §5.2.2.3 (revocation of refresh tokens when the user's authorization changes) and RFC 7009
// (a revoked token is refused everywhere). Driven over HTTP with a browser and openid-client as
// the channel, against a listening plusid.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as client from 'openid-client'
import { runCli } from '../../src/cli/main.ts'
import { LOGIN_FAILED } from '../../src/routes/accounts.ts'
import { translate } from '../../src/i18n/index.ts'
import { setAccountDisabled } from '../../src/auth/accounts.ts'
import { startSession } from '../../src/auth/session.ts'
import type { Executor } from '../../src/storage/database.ts'
import { endUserAccess } from '../../src/storage/user-data.ts'
import { setAdministrator, setUserDisabled } from '../../src/storage/users.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { onServer, testDatabase } from '../helpers/database.ts'
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

/** A channel holding this user's tokens (logged in through `browser`), and an unused code. */
async function channelWithTokens(issuer: string, channel: TestChannel, user: TestUser, browser: WebBrowser) {
  const rp = await relyingParty(issuer, channel)
  const url = (state: string) =>
    client.buildAuthorizationUrl(rp, { redirect_uri: channel.redirectUri, scope: 'openid profile', state, nonce: `n-${state}` }).href
  const callback = await authorizeInBrowser(browser, issuer, url('one'), { user })
  const tokens = await client.authorizationCodeGrant(rp, callback, { expectedState: 'one', expectedNonce: 'n-one' })
  // A second authorization whose code the channel has not exchanged yet.
  const unusedCode = await authorizeInBrowser(browser, issuer, url('two'), { user })
  return { rp, tokens, sub: tokens.claims()!.sub, unusedCode }
}

const isInvalidGrant = (error: client.ResponseBodyError) => error.error === 'invalid_grant'

/** The login form's answer for these credentials, in a fresh browser. */
async function logIn(issuer: string, email: string, password: string): Promise<{ status: number; page: string; browser: WebBrowser }> {
  const browser = new WebBrowser()
  await browser.get(`${issuer}/login`)
  const response = await browser.post(`${issuer}/login`, { email, password })
  return { status: response.status, page: browser.lastPage, browser }
}

async function assertLoggedOut(issuer: string, browser: WebBrowser, label: string) {
  const response = await browser.get(`${issuer}/account`)
  assert.equal(response.status, 303, label)
  assert.match(response.headers.get('location') ?? '', /^\/login/, `${label}: the login page`)
}

async function assertTokensRefused(issuer: string, held: Awaited<ReturnType<typeof channelWithTokens>>, label: string) {
  await assert.rejects(client.refreshTokenGrant(held.rp, held.tokens.refresh_token!), (error: client.ResponseBodyError) => {
    assert.equal(error.error, 'invalid_grant', `${label}: refresh`)
    return true
  })
  await assert.rejects(client.fetchUserInfo(held.rp, held.tokens.access_token, held.sub), (error: client.WWWAuthenticateChallengeError) => {
    assert.equal(error.status, 401, `${label}: userinfo`)
    assert.equal(error.cause[0]?.parameters.error, 'invalid_token', `${label}: userinfo`)
    return true
  })
  const verify = await fetch(`${issuer}/oauth2/v2.1/verify?access_token=${encodeURIComponent(held.tokens.access_token)}`)
  assert.deepEqual(await verify.json(), { error: 'invalid_request', error_description: 'The access token revoked' }, `${label}: verify`)
}

async function auditActions(objectId: string): Promise<{ action: string; actor_kind: string; details: Record<string, unknown> }[]> {
  return database.db
    .selectFrom('audit_log')
    .select(['action', 'actor_kind', 'details'])
    .where('object_id', '=', objectId)
    .orderBy('id')
    .execute()
}

async function changePassword(issuer: string, browser: WebBrowser, fields: Record<string, string>) {
  const page = await browser.get(`${issuer}/account/password`)
  assert.equal(page.status, 200)
  return browser.post(`${issuer}/account/password`, fields)
}

test('a password change ends every other session and revokes the tokens; this browser stays, under a new session id', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const here = new WebBrowser()
  const held = await channelWithTokens(issuer, channel, user, here)
  const elsewhere = (await logIn(issuer, user.email, user.password)).browser
  assert.equal((await elsewhere.get(`${issuer}/account`)).status, 200)
  const oldCookie = here.cookies.get('plusid_session')!

  const response = await changePassword(issuer, here, {
    current_password: user.password,
    new_password: 'a brand new password',
    new_password_again: 'a brand new password',
  })
  assert.equal(response.status, 303)
  assert.equal(response.headers.get('location'), '/account/password?changed=1')
  const newCookie = here.cookies.get('plusid_session')!
  assert.notEqual(newCookie.split('.')[0], oldCookie.split('.')[0], 'a fresh session id')
  assert.equal((await here.get(`${issuer}/account`)).status, 200, 'this browser is still logged in')

  await assertLoggedOut(issuer, elsewhere, 'the other browser')
  const stale = new WebBrowser()
  stale.cookies.set('plusid_session', oldCookie)
  await assertLoggedOut(issuer, stale, 'the old cookie of this browser')
  await assertTokensRefused(issuer, held, 'after the password change')
  await assert.rejects(
    client.authorizationCodeGrant(held.rp, held.unusedCode, { expectedState: 'two', expectedNonce: 'n-two' }),
    isInvalidGrant,
    'an unused code is gone too',
  )

  assert.equal((await logIn(issuer, user.email, user.password)).status, 401, 'the old password no longer works')
  assert.equal((await logIn(issuer, user.email, 'a brand new password')).status, 303, 'the new one does')
  const audit = (await auditActions(user.userId)).filter((entry) => entry.action === 'account.password_changed')
  assert.equal(audit.length, 1)
  assert.equal(audit[0]!.actor_kind, 'user')
  assert.ok(!JSON.stringify(audit[0]!.details).includes(user.email), 'no PII in the audit entry')
  const row = await database.db.selectFrom('users').select('password_hash').where('id', '=', user.userId).executeTakeFirstOrThrow()
  assert.match(row.password_hash, /^\$argon2id\$/)
})

test('a password change needs the current password, a valid new one typed twice, and a CSRF token; a refusal changes nothing', async (t) => {
  const { issuer } = await startServer(t)
  const user = await createTestUser()
  const { browser } = await logIn(issuer, user.email, user.password)
  const elsewhere = (await logIn(issuer, user.email, user.password)).browser
  const attempts: [Record<string, string>, RegExp][] = [
    [
      { current_password: 'not my password', new_password: 'a brand new password', new_password_again: 'a brand new password' },
      /Current password is not your password/,
    ],
    [
      { current_password: user.password, new_password: 'a brand new password', new_password_again: 'a brand new passwort' },
      /New password again does not match the new password/,
    ],
    [{ current_password: user.password, new_password: 'short', new_password_again: 'short' }, /id="field-new_password-error"/],
    [
      { current_password: '', new_password: 'a brand new password', new_password_again: 'a brand new password' },
      /Current password is required/,
    ],
  ]
  for (const [fields, message] of attempts) {
    const response = await changePassword(issuer, browser, fields)
    assert.equal(response.status, 400, JSON.stringify(fields))
    assert.match(browser.lastPage, message)
    assert.ok(!browser.lastPage.includes('a brand new password'), 'passwords are never sent back')
  }
  await browser.get(`${issuer}/account/password`)
  const forged = await browser.request(`${issuer}/account/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      current_password: user.password,
      new_password: 'a brand new password',
      new_password_again: 'a brand new password',
    }).toString(),
  })
  assert.equal(forged.status, 403, 'no CSRF token')
  assert.equal((await elsewhere.get(`${issuer}/account`)).status, 200, 'the other session lives on')
  assert.equal((await logIn(issuer, user.email, user.password)).status, 303, 'the password is unchanged')
  assert.equal((await auditActions(user.userId)).filter((entry) => entry.action === 'account.password_changed').length, 0)
})

async function adminBrowser(issuer: string): Promise<{ browser: WebBrowser; admin: TestUser }> {
  const admin = await createTestUser({ profile: null, name: 'Admin' })
  await setAdministrator(database.db, admin.userId, true)
  return { browser: (await logIn(issuer, admin.email, admin.password)).browser, admin }
}

test('an administrator disables a user: login fails generically, every session, code and token stops at once; enabling lets them log in again', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const victimBrowser = new WebBrowser()
  const held = await channelWithTokens(issuer, channel, user, victimBrowser)
  const { browser: admin, admin: adminUser } = await adminBrowser(issuer)
  const wrongPasswordAnswer = await logIn(issuer, user.email, 'wrong password')

  // Only an administrator, and only with the CSRF token.
  const nobody = (await logIn(issuer, (await createTestUser({ profile: null })).email, 'user password 123')).browser
  await nobody.get(`${issuer}/account`)
  const notAdmin = await nobody.request(`${issuer}/admin/users/${user.userId}/disable`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `csrf_token=${encodeURIComponent(nobody.csrfToken())}`,
  })
  assert.equal(notAdmin.status, 403)
  await admin.get(`${issuer}/admin/users?q=${encodeURIComponent(user.email)}`)
  const noCsrf = await admin.request(`${issuer}/admin/users/${user.userId}/disable`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: '',
  })
  assert.equal(noCsrf.status, 403)
  assert.equal((await victimBrowser.get(`${issuer}/account`)).status, 200, 'nothing happened yet')

  const page = await admin.get(`${issuer}/admin/users?q=${encodeURIComponent(user.email)}`)
  assert.equal(page.status, 200)
  assert.match(admin.lastPage, new RegExp(`action="/admin/users/${user.userId}/disable"`))
  const disabled = await admin.post(`${issuer}/admin/users/${user.userId}/disable`, {})
  assert.equal(disabled.status, 303)
  await admin.get(`${issuer}${disabled.headers.get('location')}`)
  assert.match(admin.lastPage, /The account was disabled/)
  await admin.get(`${issuer}/admin/users?q=${encodeURIComponent(user.email)}`)
  assert.match(admin.lastPage, new RegExp(`action="/admin/users/${user.userId}/enable"`))

  await assertLoggedOut(issuer, victimBrowser, "the disabled user's browser")
  await assertTokensRefused(issuer, held, 'after the disable')
  await assert.rejects(
    client.authorizationCodeGrant(held.rp, held.unusedCode, { expectedState: 'two', expectedNonce: 'n-two' }),
    isInvalidGrant,
    'an unused code is gone',
  )
  // The right password gets exactly the wrong password's answer.
  const rightPassword = await logIn(issuer, user.email, user.password)
  assert.equal(rightPassword.status, 401)
  assert.ok(rightPassword.page.includes(translate('en', LOGIN_FAILED)))
  const strip = (html: string) => html.replace(/value="[^"]*"/g, '')
  assert.equal(strip(rightPassword.page), strip(wrongPasswordAnswer.page), 'the same page as a wrong password')
  // Nor can a new authorization start for them.
  const again = new WebBrowser()
  const rp = await relyingParty(issuer, channel)
  await assert.rejects(
    authorizeInBrowser(
      again,
      issuer,
      client.buildAuthorizationUrl(rp, { redirect_uri: channel.redirectUri, scope: 'openid', state: 's3' }).href,
      { user },
    ),
    /login failed/,
  )

  const audit = (await auditActions(user.userId)).filter((entry) => entry.action === 'account.disabled')
  assert.equal(audit.length, 1)
  assert.equal(audit[0]!.actor_kind, 'admin')

  // An administrator cannot disable themselves.
  await admin.get(`${issuer}/admin/users`)
  assert.equal((await admin.post(`${issuer}/admin/users/${adminUser.userId}/disable`, {})).status, 400)

  await admin.get(`${issuer}/admin/users?q=${encodeURIComponent(user.email)}`)
  assert.equal((await admin.post(`${issuer}/admin/users/${user.userId}/enable`, {})).status, 303)
  assert.equal((await logIn(issuer, user.email, user.password)).status, 303, 'enabled: the password works again')
  await assertTokensRefused(issuer, held, 'after enabling again (the old tokens stay revoked)')
  assert.equal((await auditActions(user.userId)).filter((entry) => entry.action === 'account.enabled').length, 1)
})

test('plusid user disable / enable EMAIL', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const browser = new WebBrowser()
  const held = await channelWithTokens(issuer, channel, user, browser)
  const cli = async (...argv: string[]) => {
    let stdout = ''
    let stderr = ''
    const code = await runCli(
      argv,
      { stdout: (s) => void (stdout += s), stderr: (s) => void (stderr += s), env: {} },
      { database, masterKey: TEST_MASTER_KEY },
    )
    return { code, stdout, stderr }
  }
  const disabled = await cli('user', 'disable', user.email, '--json')
  assert.equal(disabled.code, 0, disabled.stderr)
  assert.deepEqual(JSON.parse(disabled.stdout), { user_id: user.userId, disabled: true, changed: true })
  await assertLoggedOut(issuer, browser, 'after plusid user disable')
  await assertTokensRefused(issuer, held, 'after plusid user disable')
  assert.equal((await logIn(issuer, user.email, user.password)).status, 401)
  assert.deepEqual(
    JSON.parse((await cli('user', 'disable', user.email, '--json')).stdout),
    { user_id: user.userId, disabled: true, changed: false },
    'idempotent',
  )

  const enabled = await cli('user', 'enable', user.email, '--json')
  assert.equal(enabled.code, 0, enabled.stderr)
  assert.equal((await logIn(issuer, user.email, user.password)).status, 303)
  const unknown = await cli('user', 'disable', 'nobody@example.com', '--json')
  assert.equal(unknown.code, 1)
  assert.equal(JSON.parse(unknown.stderr).error, 'unknown_user')
  assert.equal((await cli('user', 'disable', '--json')).code, 2, 'the email is required')
  const audit = await auditActions(user.userId)
  assert.deepEqual(
    audit.filter((e) => e.action.startsWith('account.')).map((e) => [e.action, e.actor_kind]),
    [
      ['account.disabled', 'cli'],
      ['account.enabled', 'cli'],
    ],
  )
})

test('a login racing a disable leaves no session behind, whichever commits first', {
  skip: !onServer && 'needs two connections to the PostgreSQL server (PGlite has one)',
}, async () => {
  const { db } = database
  const details = { ip: null, userAgent: null }
  const clock = () => ({ now: new Date(), ttlSeconds: 3600 })
  const sessionsOf = async (userId: string) => (await db.selectFrom('sessions').select('id').where('user_id', '=', userId).execute()).length
  /** Runs `first` in a transaction held open until `second` has started and had time to block. */
  async function interleave(first: (trx: Executor) => Promise<unknown>, second: () => Promise<unknown>) {
    let release!: () => void
    const held = new Promise<void>((resolve) => (release = resolve))
    let started!: () => void
    const inside = new Promise<void>((resolve) => (started = resolve))
    const firstDone = db.transaction().execute(async (trx) => {
      await first(trx)
      started()
      await held
    })
    await inside
    const secondDone = second()
    await new Promise((resolve) => setTimeout(resolve, 200)) // the second statement is now waiting on the row lock
    release()
    await firstDone
    return secondDone
  }

  // The disable commits first: the login's session insert waits for it, then finds the account disabled.
  const early = await createTestUser()
  const refused = await interleave(
    async (trx) => {
      await setUserDisabled(trx, early.userId, new Date())
      await endUserAccess(trx, early.userId, new Date())
    },
    () => startSession(db, early.userId, details, clock()),
  )
  assert.equal(refused, null, 'no session for an account disabled meanwhile')
  assert.equal(await sessionsOf(early.userId), 0)

  // The login commits first: the disable waits for it, then ends the new session with the others.
  const late = await createTestUser()
  await interleave(
    (trx) => startSession(trx, late.userId, details, clock()),
    () => setAccountDisabled(db, { userId: null, kind: 'cli', ip: null }, late.userId, true),
  )
  assert.equal(await sessionsOf(late.userId), 0, 'the session made just before the disable is gone')
})

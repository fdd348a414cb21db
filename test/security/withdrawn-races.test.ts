// Revocation wins every race: when an unlink, a password change, a disable or a deauthorize has
// answered, no token of what it ended can be used — including tokens a refresh was issuing at
// that moment (RFC 6819 §5.2.2.3, RFC 7009; the public-channel reuse rule of RFC 9700 §4.14.2).
// Everything is driven over HTTP against a listening plusid on the PostgreSQL server: a relying
// party refreshing, the user on their account pages, an administrator, the channel's deauthorize.
//
// Each race is forced in both orders, several times, by holding a row lock from the test:
// - revocation first: the test locks one of the user's access tokens, so the revocation takes its
//   first lock (the user row or the grant row) and then waits; the refresh started then must wait
//   for the revocation and issue nothing;
// - issuance first: the test locks the refresh token, so the refresh takes its locks on the user
//   and the grant and then waits; the revocation started then must wait for the refresh and
//   revoke what it issued.
// Then unforced refresh loops race each action, repeatedly.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { sql } from 'kysely'
import * as client from 'openid-client'
import { sha256 } from '../../src/crypto/tokens.ts'
import { setAccountDisabled } from '../../src/auth/accounts.ts'
import { setAdministrator } from '../../src/storage/users.ts'
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

const skip = !onServer && 'races need several connections to the PostgreSQL server (PGlite has one): set DATABASE_URL'
const database = await testDatabase()
const REPEAT = 4

interface Tokens {
  access: string
  refresh: string
}

/** Logs in (when needed) and consents in `browser`, exchanges the code: fresh tokens. */
async function obtainTokens(issuer: string, channel: TestChannel, user: TestUser, browser: WebBrowser): Promise<Tokens> {
  const rp = await relyingParty(issuer, channel)
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: channel.redirectUri,
    scope: 'openid profile email',
    state,
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const callback = await authorizeInBrowser(browser, issuer, url.href, { user })
  const tokens = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state })
  return { access: tokens.access_token, refresh: tokens.refresh_token! }
}

/** An authorization whose code the channel has not exchanged yet, and its exchange. */
async function pendingCode(
  issuer: string,
  channel: TestChannel,
  user: TestUser,
  browser: WebBrowser,
): Promise<() => Promise<Tokens | undefined>> {
  const rp = await relyingParty(issuer, channel)
  const verifier = client.randomPKCECodeVerifier()
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: channel.redirectUri,
    scope: 'openid profile email',
    state: 's',
    code_challenge: await client.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
  })
  const callback = await authorizeInBrowser(browser, issuer, url.href, { user })
  return async () => {
    const form = new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: channel.redirectUri,
      code_verifier: verifier,
    })
    const response = await fetch(`${issuer}/oauth2/v2.1/token`, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${channel.channelId}:${channel.secret}`).toString('base64')}`,
      },
      body: form.toString(),
    })
    const body = (await response.json()) as Record<string, string>
    return response.status === 200 ? { access: body.access_token!, refresh: body.refresh_token! } : undefined
  }
}

/** A refresh as the channel sends it; the new tokens when it succeeded. */
async function refresh(
  issuer: string,
  channel: TestChannel,
  refreshToken: string,
): Promise<{ status: number; body: Record<string, unknown>; tokens?: Tokens }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' }
  const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken })
  if (channel.secret) headers.authorization = `Basic ${Buffer.from(`${channel.channelId}:${channel.secret}`).toString('base64')}`
  else form.set('client_id', channel.channelId)
  const response = await fetch(`${issuer}/oauth2/v2.1/token`, { method: 'POST', headers, body: form.toString() })
  const body = (await response.json()) as Record<string, unknown>
  return {
    status: response.status,
    body,
    ...(response.status === 200 ? { tokens: { access: body.access_token as string, refresh: body.refresh_token as string } } : {}),
  }
}

/** Holds a row lock from the test until release() is called. */
async function holdRowLock(table: 'access_tokens' | 'refresh_tokens', token: string): Promise<{ release: () => Promise<void> }> {
  let release!: () => void
  const held = new Promise<void>((resolve) => (release = resolve))
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => (locked = resolve))
  const done = database.db.transaction().execute(async (trx) => {
    await sql`SELECT 1 FROM ${sql.table(table)} WHERE token_hash = ${sha256(token)} FOR UPDATE`.execute(trx)
    locked()
    await held
  })
  await isLocked
  return {
    release: async () => {
      release()
      await done
    },
  }
}

/** Waits until `count` statements of this database wait on a lock (at most 5 s: without the guard under test they never do). */
async function lockWaiters(count: number): Promise<void> {
  const deadline = Date.now() + 5000
  while (Date.now() < deadline) {
    const { rows } = await sql<{
      n: number
    }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(database.db)
    if (rows[0]!.n >= count) return
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

/** No token of the user for the channel is usable: not the ones seen, and none in the tables. */
async function assertNothingUsable(issuer: string, channel: TestChannel, user: TestUser, seen: Tokens[], label: string) {
  const live = await database.db
    .selectFrom('access_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', user.userId)
    .where('channel_id', '=', channel.channelId)
    .where('revoked_at', 'is', null)
    .executeTakeFirstOrThrow()
  assert.equal(Number(live.n), 0, `${label}: no live access token is left in the table`)
  const liveRefresh = await database.db
    .selectFrom('refresh_tokens')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('user_id', '=', user.userId)
    .where('channel_id', '=', channel.channelId)
    .where('revoked_at', 'is', null)
    .where('consumed_at', 'is', null)
    .executeTakeFirstOrThrow()
  assert.equal(Number(liveRefresh.n), 0, `${label}: no live refresh token is left in the table`)
  for (const tokens of seen) {
    const userinfo = await fetch(`${issuer}/oauth2/v2.1/userinfo`, { headers: { authorization: `Bearer ${tokens.access}` } })
    assert.equal(userinfo.status, 401, `${label}: userinfo refuses the access token`)
    const again = await refresh(issuer, channel, tokens.refresh)
    assert.equal(again.body.error, 'invalid_grant', `${label}: the refresh token is refused`)
  }
}

interface Action {
  name: string
  /** Loads the pages (CSRF tokens) before the race; returns the request that ends access. */
  prepare(tokens: Tokens): Promise<() => Promise<void>>
  /** Brings the user back (consent, enable, log in) for the next round. */
  restore(): Promise<void>
}

/** A user holding tokens of a channel, and the four ways their access ends. */
async function setting(issuer: string) {
  const channel = await createTestChannel({ items: ['email'] })
  const user = await createTestUser()
  const browser = new WebBrowser()
  const admin = await createTestUser({ profile: null, name: 'Admin' })
  await setAdministrator(database.db, admin.userId, true)
  const adminBrowser = new WebBrowser()
  await adminBrowser.get(`${issuer}/login`)
  assert.equal((await adminBrowser.post(`${issuer}/login`, { email: admin.email, password: admin.password })).status, 303)
  let password = user.password
  const current = () => ({ ...user, password })

  const actions: Action[] = [
    {
      name: 'unlink at /account/apps',
      async prepare() {
        await browser.get(`${issuer}/account/apps`)
        return async () => {
          const response = await browser.post(`${issuer}/account/apps/${channel.channelId}/unlink`, {})
          assert.equal(response.status, 303)
        }
      },
      restore: async () => {},
    },
    {
      name: 'password change at /account/password',
      async prepare() {
        await browser.get(`${issuer}/account/password`)
        const next = password === user.password ? 'another password 456' : user.password
        return async () => {
          const response = await browser.post(`${issuer}/account/password`, {
            current_password: password,
            new_password: next,
            new_password_again: next,
          })
          assert.equal(response.status, 303)
          password = next
        }
      },
      restore: async () => {},
    },
    {
      name: 'disable at /admin/users',
      async prepare() {
        await adminBrowser.get(`${issuer}/admin/users?q=${encodeURIComponent(user.email)}`)
        return async () => {
          const response = await adminBrowser.post(`${issuer}/admin/users/${user.userId}/disable`, {})
          assert.equal(response.status, 303)
        }
      },
      async restore() {
        await setAccountDisabled(database.db, { userId: null, kind: 'cli', ip: null }, user.userId, false)
      },
    },
    {
      name: 'deauthorize by the channel',
      async prepare(tokens) {
        const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: channel.channelId, client_secret: channel.secret! })
        const channelToken = (await (
          await fetch(`${issuer}/oauth2/v3/token`, {
            method: 'POST',
            headers: { 'content-type': 'application/x-www-form-urlencoded' },
            body: form,
          })
        ).json()) as { access_token: string }
        return async () => {
          const response = await fetch(`${issuer}/user/v1/deauthorize`, {
            method: 'POST',
            headers: { authorization: `Bearer ${channelToken.access_token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ userAccessToken: tokens.access }),
          })
          assert.equal(response.status, 204)
        }
      },
      restore: async () => {},
    },
  ]
  return {
    channel,
    user,
    browser,
    actions,
    tokens: () => obtainTokens(issuer, channel, current(), browser),
    pendingCode: () => pendingCode(issuer, channel, current(), browser),
  }
}

test('revocation first: a refresh arriving while an unlink, password change, disable or deauthorize commits issues nothing', {
  skip,
}, async (t) => {
  const { issuer } = await startServer(t)
  const { channel, user, actions, tokens } = await setting(issuer)
  for (const action of actions) {
    for (let round = 0; round < REPEAT; round++) {
      const label = `${action.name}, round ${round + 1}`
      const held = await tokens()
      const fire = await action.prepare(held)
      // The revocation takes its first lock, then waits on the access token the test holds.
      const lock = await holdRowLock('access_tokens', held.access)
      const revoking = fire()
      await lockWaiters(1)
      const refreshing = refresh(issuer, channel, held.refresh)
      await lockWaiters(2)
      await lock.release()
      await revoking
      const answer = await refreshing
      assert.equal(answer.body.error, 'invalid_grant', `${label}: the refresh that waited is refused`)
      await assertNothingUsable(issuer, channel, user, [held], label)
      await action.restore()
    }
  }
})

test('issuance first: an unlink, password change, disable or deauthorize arriving while a refresh is issuing revokes what it issued', {
  skip,
}, async (t) => {
  const { issuer } = await startServer(t)
  const { channel, user, actions, tokens } = await setting(issuer)
  for (const action of actions) {
    for (let round = 0; round < REPEAT; round++) {
      const label = `${action.name}, round ${round + 1}`
      const held = await tokens()
      const fire = await action.prepare(held)
      // The refresh takes its locks on the user and the grant, then waits on its refresh token.
      const lock = await holdRowLock('refresh_tokens', held.refresh)
      const refreshing = refresh(issuer, channel, held.refresh)
      await lockWaiters(1)
      const revoking = fire()
      await lockWaiters(2)
      await lock.release()
      const answer = await refreshing
      await revoking
      assert.equal(answer.status, 200, `${label}: the refresh that went first got its tokens`)
      const seen = [held, ...(answer.tokens ? [answer.tokens] : [])]
      await assertNothingUsable(issuer, channel, user, seen, label)
      await action.restore()
    }
  }
})

test('refresh loops and code exchanges racing an unlink, password change, disable or deauthorize leave no usable token', {
  skip,
}, async (t) => {
  const { issuer } = await startServer(t)
  const { channel, user, actions, tokens, pendingCode } = await setting(issuer)
  for (const action of actions) {
    for (let round = 0; round < REPEAT; round++) {
      const label = `${action.name}, round ${round + 1}`
      const held = await tokens()
      const codes = [await pendingCode(), await pendingCode()]
      const fire = await action.prepare(held)
      const seen: Tokens[] = [held]
      // Codes exchanged at the moment the action runs.
      const exchanges = codes.map(async (exchange, i) => {
        await new Promise((resolve) => setTimeout(resolve, 5 * i + 10 * round))
        const issued = await exchange()
        if (issued) seen.push(issued)
      })
      let stop = false
      // Three loops refreshing as fast as they can until the action has answered and one more round.
      const loops = Array.from({ length: 3 }, async () => {
        let current = held.refresh
        for (let i = 0; i < 200; i++) {
          const answer = await refresh(issuer, channel, current)
          if (answer.tokens) {
            seen.push(answer.tokens)
            current = answer.tokens.refresh
          }
          if (stop || !answer.tokens) return
        }
      })
      await new Promise((resolve) => setTimeout(resolve, 10 + 15 * round))
      await fire()
      stop = true
      await Promise.all([...loops, ...exchanges])
      await assertNothingUsable(issuer, channel, user, seen, label)
      await action.restore()
    }
  }
})

/** A public channel's tokens: scope openid profile, so a returning user is not asked again. */
async function publicSetting(issuer: string) {
  const channel = await createTestChannel({ kind: 'spa' })
  const user = await createTestUser()
  const browser = new WebBrowser()
  const rp = await relyingParty(issuer, channel)
  const tokens = async (): Promise<Tokens & { family: string }> => {
    const verifier = client.randomPKCECodeVerifier()
    const state = client.randomState()
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: channel.redirectUri,
      scope: 'openid profile',
      state,
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    })
    const callback = await authorizeInBrowser(browser, issuer, url.href, { user })
    const issued = await client.authorizationCodeGrant(rp, callback, { pkceCodeVerifier: verifier, expectedState: state })
    const row = await database.db
      .selectFrom('refresh_tokens')
      .select('token_family')
      .where('token_hash', '=', sha256(issued.refresh_token!))
      .executeTakeFirstOrThrow()
    return { access: issued.access_token, refresh: issued.refresh_token!, family: row.token_family }
  }
  return { channel, user, tokens }
}

async function assertFamilyDead(issuer: string, family: string, seen: Tokens[], label: string) {
  const live = await database.db
    .selectFrom('access_tokens')
    .select('token_hash')
    .where('token_family', '=', family)
    .where('revoked_at', 'is', null)
    .execute()
  assert.equal(live.length, 0, `${label}: every access token of the family is revoked`)
  const liveRefresh = await database.db
    .selectFrom('refresh_tokens')
    .select('token_hash')
    .where('token_family', '=', family)
    .where('revoked_at', 'is', null)
    .execute()
  assert.equal(liveRefresh.length, 0, `${label}: every refresh token of the family is revoked`)
  for (const tokens of seen) {
    assert.equal(
      (await fetch(`${issuer}/oauth2/v2.1/userinfo`, { headers: { authorization: `Bearer ${tokens.access}` } })).status,
      401,
      `${label}: userinfo refuses`,
    )
  }
}

test("a public channel's refresh token used twice at once never leaves a live token, whichever request wins", { skip }, async (t) => {
  const { issuer } = await startServer(t)
  const { channel, tokens } = await publicSetting(issuer)
  for (let round = 0; round < REPEAT * 2; round++) {
    // Both requests pass their first read and meet at the consume: the loser must revoke the
    // family after the winner committed.
    const label = `simultaneous, round ${round + 1}`
    const held = await tokens()
    const lock = await holdRowLock('refresh_tokens', held.refresh)
    const both = [refresh(issuer, channel, held.refresh), refresh(issuer, channel, held.refresh)]
    await lockWaiters(2)
    await lock.release()
    const answers = await Promise.all(both)
    assert.equal(answers.filter((a) => a.status === 200).length, 1, `${label}: one request wins`)
    assert.equal(answers.filter((a) => a.body.error === 'invalid_grant').length, 1, `${label}: the other is refused`)
    await assertFamilyDead(issuer, held.family, [held, ...answers.flatMap((a) => (a.tokens ? [a.tokens] : []))], label)
  }
  for (let round = 0; round < REPEAT * 2; round++) {
    // The winner goes on refreshing with its new token while the reuse revokes the family.
    const label = `winner refreshing on, round ${round + 1}`
    const held = await tokens()
    const seen: Tokens[] = [held]
    const first = await refresh(issuer, channel, held.refresh)
    assert.ok(first.tokens)
    seen.push(first.tokens)
    const winner = (async () => {
      let current = first.tokens!.refresh
      for (let i = 0; i < 50; i++) {
        const answer = await refresh(issuer, channel, current)
        if (!answer.tokens) return
        seen.push(answer.tokens)
        current = answer.tokens.refresh
      }
    })()
    await new Promise((resolve) => setTimeout(resolve, 5 * round))
    const reuse = await refresh(issuer, channel, held.refresh)
    assert.equal(reuse.body.error, 'invalid_grant', label)
    await winner
    await assertFamilyDead(issuer, held.family, seen, label)
  }
})

test('a code being issued to a browser session while a password change or a disable commits is never usable', { skip }, async (t) => {
  const { issuer } = await startServer(t)
  const { channel, user, browser, actions, tokens } = await setting(issuer)
  const rp = await relyingParty(issuer, channel)
  // A returning user's authorize: the code is issued at once, without a page.
  const authorize = async () => {
    const url = client.buildAuthorizationUrl(rp, { redirect_uri: channel.redirectUri, scope: 'openid profile email', state: 's' })
    const response = await browser.request(url.href)
    return new URL(response.headers.get('location')!)
  }
  for (const action of actions.filter((a) => /password|disable/.test(a.name))) {
    for (let round = 0; round < REPEAT; round++) {
      const label = `${action.name}, round ${round + 1}`
      const held = await tokens()
      const fire = await action.prepare(held)
      // The action deletes the sessions, then waits on the access token the test holds; the
      // authorize started then has read its (still committed) session and must not store a code.
      const lock = await holdRowLock('access_tokens', held.access)
      const revoking = fire()
      await lockWaiters(1)
      const authorizing = authorize()
      await lockWaiters(2)
      await lock.release()
      await revoking
      const callback = await authorizing
      if (callback.searchParams.get('code')) {
        const exchanged = await fetch(`${issuer}/oauth2/v2.1/token`, {
          method: 'POST',
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            authorization: `Basic ${Buffer.from(`${channel.channelId}:${channel.secret}`).toString('base64')}`,
          },
          body: new URLSearchParams({
            grant_type: 'authorization_code',
            code: callback.searchParams.get('code')!,
            redirect_uri: channel.redirectUri,
          }).toString(),
        })
        assert.equal(exchanged.status, 400, `${label}: a code issued in the race cannot be exchanged`)
      } else {
        assert.equal(callback.searchParams.get('error'), 'login_required', label)
      }
      await assertNothingUsable(issuer, channel, user, [held], label)
      await action.restore()
    }
  }
})

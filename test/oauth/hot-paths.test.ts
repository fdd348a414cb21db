// The hot paths make a fixed, small number of database round trips, and never read signing keys
// from the database per request (keys live in memory). Counted through Kysely's query log.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import * as client from 'openid-client'
import { authorizeInBrowser, createTestChannel, createTestUser, relyingParty, startServer, WebBrowser } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'

const database = await testDatabase()

async function counting<T>(work: () => Promise<T>): Promise<{ result: T; queries: string[] }> {
  const queries: string[] = []
  const stop = database.watchQueries((event) => queries.push(event.query.sql))
  try {
    return { result: await work(), queries }
  } finally {
    stop()
  }
}

test('authorize (returning user), token, userinfo, refresh, JWKS and discovery: round trips per request', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'phone'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const authorizationUrl = (state: string) =>
    client.buildAuthorizationUrl(rp, { redirect_uri: channel.redirectUri, scope: 'openid profile email phone', state, nonce: 'n-' + state })
      .href

  // First time: login and consent (not a hot path).
  const first = await authorizeInBrowser(browser, issuer, authorizationUrl('s1'), { user })
  await client.authorizationCodeGrant(rp, first, { expectedState: 's1', expectedNonce: 'n-s1' })

  // Returning user: a session and a grant.
  const authorize = await counting(() => browser.request(authorizationUrl('s2')))
  assert.equal(authorize.result.status, 302)
  const callback = new URL(authorize.result.headers.get('location')!)
  assert.ok(callback.searchParams.get('code'))
  // channel with session, user and grant + code insert (which also marks the grant used)
  assert.equal(authorize.queries.length, 2, authorize.queries.join('\n'))

  const token = await counting(() => client.authorizationCodeGrant(rp, callback, { expectedState: 's2', expectedNonce: 'n-s2' }))
  // claim the code with the user's claims and the channel (client authentication) + insert both tokens
  assert.equal(token.queries.length, 2, token.queries.join('\n'))
  const tokens = token.result

  const userinfo = await counting(() => client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub))
  assert.equal(userinfo.queries.length, 1, userinfo.queries.join('\n'))
  assert.equal(userinfo.result.phone_number, '+819012345678')

  const refresh = await counting(() => client.refreshTokenGrant(rp, tokens.refresh_token!))
  // channel with the refresh token + insert the access token (web channels keep their refresh token)
  assert.equal(refresh.queries.length, 2, refresh.queries.join('\n'))

  const jwks = await counting(() => fetch(`${issuer}/oauth2/v2.1/certs`))
  assert.equal(jwks.result.status, 200)
  const discovery = await counting(() => fetch(`${issuer}/.well-known/openid-configuration`))
  assert.equal(discovery.result.status, 200)
  assert.equal(jwks.queries.length + discovery.queries.length, 0)

  for (const { queries } of [authorize, token, userinfo, refresh]) {
    assert.ok(!queries.some((sql) => sql.includes('signing_keys')), 'no signing key is read per request')
  }
})

test('the consent flow (authorize → consent page → consent → token → userinfo → refresh) makes at most 10 round trips', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel({ items: ['email', 'phone'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const url = (state: string, extra: Record<string, string> = {}) =>
    client.buildAuthorizationUrl(rp, {
      redirect_uri: channel.redirectUri,
      scope: 'openid profile email phone',
      state,
      nonce: 'n',
      ...extra,
    }).href
  await authorizeInBrowser(browser, issuer, url('first'), { user }) // logs in

  const counts: Record<string, number> = {}
  const step = async <T>(name: string, work: () => Promise<T>) => {
    const { result, queries } = await counting(work)
    counts[name] = queries.length
    if (process.env.SHOW_QUERIES) console.log(name, queries)
    return result
  }
  const start = await step('authorize', () => browser.request(url('s', { prompt: 'consent' })))
  assert.equal(start.status, 303)
  const page = await step('consent page', () => browser.get(new URL(start.headers.get('location')!, issuer).href))
  assert.equal(page.status, 200)
  const consent = await step('consent', () =>
    browser.post(new URL(browser.formAction(), issuer).href, { items: ['email', 'phone'], decision: 'allow' }),
  )
  assert.equal(consent.status, 303)
  const tokens = await step('token', () =>
    client.authorizationCodeGrant(rp, new URL(consent.headers.get('location')!), { expectedState: 's', expectedNonce: 'n' }),
  )
  await step('userinfo', () => client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub))
  await step('refresh', () => client.refreshTokenGrant(rp, tokens.refresh_token!))
  // authorize: channel with session + interaction insert; page: one joined read; consent: the same
  // read + one statement ending the interaction, recording the grant and storing the code.
  assert.deepEqual(counts, { authorize: 2, 'consent page': 1, consent: 2, token: 2, userinfo: 1, refresh: 2 })
  assert.ok(Object.values(counts).reduce((a, b) => a + b) <= 10)
})

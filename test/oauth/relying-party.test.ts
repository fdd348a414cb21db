// Complete authorization flows driven by openid-client v6, a standard relying party, through the
// real HTML forms: signing algorithms, client authentication, permissions, public channels and
// refresh-token rotation, remembered consent, prompt=none, form_post, denial, inline fill-in,
// developing channels, browser binding, expired interactions and single-use codes.
import assert from 'node:assert/strict'
import { test, type TestContext } from 'node:test'
import * as client from 'openid-client'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose'
import { testDatabase } from '../helpers/database.ts'
import {
  addTester,
  authorizeInBrowser,
  CALLBACK,
  createTestChannel,
  createTestUser,
  relyingParty,
  startServer,
  WebBrowser,
  type TestChannel,
  type TestUser,
} from '../helpers/oidc.ts'

// The file's database, created once at the top level (see helpers/database.ts).
const database = testDatabase()

// ---------------------------------------------------------------------------------------------
// Helpers of this file

interface Started {
  url: URL
  state: string
  nonce: string
  verifier: string
}

/** An authorization URL with state, nonce and PKCE (unless pkce: false), plus extra parameters. */
async function authorizationUrl(
  rp: client.Configuration,
  channel: TestChannel,
  scope: string,
  extra: Record<string, string> = {},
  pkce = true,
): Promise<Started> {
  const verifier = client.randomPKCECodeVerifier()
  const state = client.randomState()
  const nonce = client.randomNonce()
  const params: Record<string, string> = { redirect_uri: channel.redirectUri, scope, state, nonce, ...extra }
  if (pkce) {
    params.code_challenge = await client.calculatePKCECodeChallenge(verifier)
    params.code_challenge_method = 'S256'
  }
  return { url: client.buildAuthorizationUrl(rp, params), state, nonce, verifier }
}

/** Exchanges the code of a callback URL with the checks of the started authorization. */
function exchange(rp: client.Configuration, callback: URL | Request, started: Started, pkce = true) {
  return client.authorizationCodeGrant(rp, callback, {
    ...(pkce ? { pkceCodeVerifier: started.verifier } : {}),
    expectedState: started.state,
    expectedNonce: started.nonce,
  })
}

/** The callback URL a response redirects to (a 302 answering a GET, a 303 a form post, leaving plusid for the callback). */
function callbackOf(response: Response, issuer: string): URL {
  assert.ok(response.status === 302 || response.status === 303, `expected a redirect to the callback, got ${response.status}`)
  const location = new URL(response.headers.get('location')!, issuer)
  assert.equal(`${location.origin}${location.pathname}`, CALLBACK)
  return location
}

/** Asserts the callback carries the authorization error with the request's state and our iss. */
function assertErrorCallback(callback: URL, error: string, state: string, issuer: string): void {
  assert.equal(`${callback.origin}${callback.pathname}`, CALLBACK)
  assert.equal(callback.searchParams.get('error'), error, `callback ${callback.href}`)
  assert.equal(callback.searchParams.get('state'), state)
  assert.equal(callback.searchParams.get('iss'), issuer)
  assert.equal(callback.searchParams.get('code'), null)
}

/** Status (and WWW-Authenticate) of a userinfo call with the token, without openid-client. */
async function userinfoStatus(rp: client.Configuration, accessToken: string): Promise<{ status: number; challenge: string | null }> {
  const response = await fetch(rp.serverMetadata().userinfo_endpoint!, { headers: { authorization: `Bearer ${accessToken}` } })
  await response.body?.cancel()
  return { status: response.status, challenge: response.headers.get('www-authenticate') }
}

/** Asserts a token-endpoint call fails with the given OAuth error code. */
async function assertTokenError(promise: Promise<unknown>, error: string): Promise<void> {
  await assert.rejects(promise, (thrown: unknown) => {
    assert.ok(thrown instanceof client.ResponseBodyError, `expected a ResponseBodyError, got ${String(thrown)}`)
    assert.equal(thrown.error, error)
    assert.equal(thrown.status, 400)
    return true
  })
}

/** The `value`s of the consent page's item checkboxes. */
function offeredItems(page: string): string[] {
  return [...page.matchAll(/name="items" value="([a-z_]+)"/g)].map((m) => m[1]!)
}

function decodeHtml(text: string): string {
  return text
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&')
}

/** Follows the authorization to the login page and logs in; returns what came after the login. */
async function logIn(browser: WebBrowser, issuer: string, url: string, user: TestUser): Promise<{ callback: URL } | { page: Response }> {
  const step = await browser.follow(url, issuer)
  assert.ok('page' in step, 'expected the login page, got a redirect to the callback')
  assert.equal(step.page.status, 200)
  const action = new URL(browser.formAction(), issuer).href
  assert.match(action, /\/interaction\/[A-Za-z0-9_-]+\/login$/)
  const response = await browser.post(action, { email: user.email, password: user.password })
  assert.equal(response.status, 303, `login failed: ${browser.lastPage.slice(0, 500)}`)
  return browser.follow(new URL(response.headers.get('location')!, issuer).href, issuer)
}

async function server(t: TestContext) {
  await database
  return startServer(t)
}

// ---------------------------------------------------------------------------------------------
// 1. ID token signing algorithms

for (const alg of ['ES256', 'RS256', 'HS256'] as const) {
  test(`an ${alg} channel completes the flow and its ID token verifies`, async (t) => {
    const { issuer } = await server(t)
    const channel = await createTestChannel({ idTokenAlg: alg, items: ['email'] })
    const user = await createTestUser()
    const rp = await relyingParty(issuer, channel, { alg })
    // openid-client checks the signature against the JWKS itself for the asymmetric algorithms.
    if (alg !== 'HS256') client.enableNonRepudiationChecks(rp)
    const started = await authorizationUrl(rp, channel, 'openid profile email')
    const callback = await authorizeInBrowser(new WebBrowser(), issuer, started.url.href, { user })
    const tokens = await exchange(rp, callback, started)
    const claims = tokens.claims()!
    assert.equal(claims.iss, issuer)
    assert.equal(claims.aud, channel.channelId)
    assert.equal(claims.nonce, started.nonce)
    assert.equal(claims.email, user.email)
    assert.match(claims.sub, /^U[0-9a-f]{32}$/)

    const header = decodeProtectedHeader(tokens.id_token!)
    assert.equal(header.alg, alg)
    if (alg === 'HS256') {
      assert.equal(header.kid, undefined, 'an HS256 ID token carries no kid')
      const { payload } = await jwtVerify(tokens.id_token!, new TextEncoder().encode(channel.secret!), {
        issuer,
        audience: channel.channelId,
        algorithms: ['HS256'],
      })
      assert.equal(payload.sub, claims.sub)
      await assert.rejects(
        jwtVerify(tokens.id_token!, new TextEncoder().encode('0'.repeat(32)), { algorithms: ['HS256'] }),
        'another secret does not verify it',
      )
    } else {
      assert.equal(typeof header.kid, 'string')
      const jwks = (await (await fetch(rp.serverMetadata().jwks_uri!)).json()) as JSONWebKeySet
      const key = jwks.keys.find((k) => k.kid === header.kid)
      assert.ok(key, `kid ${header.kid} is in the JWKS`)
      assert.equal(key.kty, alg === 'ES256' ? 'EC' : 'RSA')
      assert.equal(key.d, undefined, 'the JWKS holds public keys only')
      const { payload } = await jwtVerify(tokens.id_token!, createLocalJWKSet(jwks), {
        issuer,
        audience: channel.channelId,
        algorithms: [alg],
      })
      assert.equal(payload.sub, claims.sub)
    }
    const info = await client.fetchUserInfo(rp, tokens.access_token, claims.sub)
    assert.equal(info.email, user.email)
  })
}

// ---------------------------------------------------------------------------------------------
// 2. Client authentication methods

for (const auth of ['post', 'basic'] as const) {
  test(`client_secret_${auth} authenticates the channel at the token endpoint`, async (t) => {
    const { issuer } = await server(t)
    const channel = await createTestChannel()
    const user = await createTestUser()
    const rp = await relyingParty(issuer, channel, { auth })
    const sent: { authorization: string | null; body: URLSearchParams }[] = []
    rp[client.customFetch] = async (url, options) => {
      if (url === rp.serverMetadata().token_endpoint) {
        sent.push({ authorization: new Headers(options.headers).get('authorization'), body: new URLSearchParams(String(options.body)) })
      }
      return fetch(url, options as RequestInit)
    }
    const started = await authorizationUrl(rp, channel, 'openid profile')
    const callback = await authorizeInBrowser(new WebBrowser(), issuer, started.url.href, { user })
    const tokens = await exchange(rp, callback, started)
    assert.equal(tokens.claims()!.aud, channel.channelId)
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!)
    assert.equal(typeof refreshed.access_token, 'string')

    assert.equal(sent.length, 2, 'the code exchange and the refresh reached the token endpoint')
    for (const request of sent) {
      if (auth === 'basic') {
        assert.equal(request.authorization, `Basic ${Buffer.from(`${channel.channelId}:${channel.secret}`).toString('base64')}`)
        assert.equal(request.body.get('client_secret'), null)
      } else {
        assert.equal(request.authorization, null)
        assert.equal(request.body.get('client_id'), channel.channelId)
        assert.equal(request.body.get('client_secret'), channel.secret)
      }
    }

    // The other half of the proof: a wrong secret by the same method is refused.
    const wrong = await relyingParty(issuer, { ...channel, secret: 'f'.repeat(32) }, { auth })
    await assert.rejects(client.refreshTokenGrant(wrong, tokens.refresh_token!), (error: unknown) => {
      if (auth === 'basic') {
        // RFC 6749 §5.2: 401 with a Basic challenge when the client used HTTP Basic.
        assert.ok(error instanceof client.WWWAuthenticateChallengeError, String(error))
        assert.equal(error.status, 401)
        assert.equal(error.cause[0]?.scheme, 'basic')
      } else {
        assert.ok(error instanceof client.ResponseBodyError, String(error))
        assert.equal(error.error, 'invalid_client')
      }
      return true
    })
  })
}

// ---------------------------------------------------------------------------------------------
// 3. Unpermitted item

test('a channel without the phone permission asking for phone is sent back with invalid_scope before any page', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ items: ['email'] })
  const rp = await relyingParty(issuer, channel)
  const started = await authorizationUrl(rp, channel, 'openid profile phone')
  const browser = new WebBrowser()
  const response = await browser.get(started.url.href)
  const callback = callbackOf(response, issuer)
  assertErrorCallback(callback, 'invalid_scope', started.state, issuer)
  assert.match(callback.searchParams.get('error_description') ?? '', /phone/)
  await assert.rejects(exchange(rp, callback, started), (error: unknown) => {
    assert.ok(error instanceof client.AuthorizationResponseError)
    assert.equal(error.error, 'invalid_scope')
    return true
  })
})

// ---------------------------------------------------------------------------------------------
// 4. Unknown channel, unregistered callback

test('an unknown client_id and an unregistered redirect_uri get a 400 error page and no redirect', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel()
  const rp = await relyingParty(issuer, channel)
  const endpoint = rp.serverMetadata().authorization_endpoint!
  const browser = new WebBrowser()

  const unknown = new URL(endpoint)
  unknown.search = new URLSearchParams({
    response_type: 'code',
    client_id: '9999999999',
    redirect_uri: CALLBACK,
    scope: 'openid profile',
    state: 'state-1',
  }).toString()
  const first = await browser.get(unknown.href)
  assert.equal(first.status, 400)
  assert.equal(first.headers.get('location'), null)
  assert.match(first.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(browser.lastPage, /unknown client_id|not registered/i)
  assert.ok(!browser.lastPage.includes('rp.example.com'), 'the page does not link to the unverified callback')

  const evil = 'https://evil.example.com/callback'
  const started = await authorizationUrl(rp, { ...channel, redirectUri: evil }, 'openid profile')
  assert.equal(started.url.searchParams.get('redirect_uri'), evil)
  const second = await browser.get(started.url.href)
  assert.equal(second.status, 400)
  assert.equal(second.headers.get('location'), null)
  assert.match(second.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(browser.lastPage, /redirect_uri/)
  assert.ok(!browser.lastPage.includes('evil.example.com'), 'the page does not link to the unregistered callback')
})

// ---------------------------------------------------------------------------------------------
// 5. Public channel: PKCE required, refresh-token rotation, reuse revokes the family

test('a public (spa) channel needs PKCE, rotates refresh tokens, and reuse of a consumed one revokes the family', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ kind: 'spa', items: ['real_name'] })
  assert.equal(channel.secret, null)
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()

  // Without a code_challenge: refused by redirect.
  const withoutPkce = await authorizationUrl(rp, channel, 'openid profile real_name', {}, false)
  assert.equal(withoutPkce.url.searchParams.get('code_challenge'), null)
  assertErrorCallback(callbackOf(await browser.get(withoutPkce.url.href), issuer), 'invalid_request', withoutPkce.state, issuer)

  // With PKCE: completes.
  const started = await authorizationUrl(rp, channel, 'openid profile real_name')
  const callback = await authorizeInBrowser(browser, issuer, started.url.href, { user })
  const tokens = await exchange(rp, callback, started)
  const sub = tokens.claims()!.sub
  assert.equal(tokens.claims()!.family_name, '山田')
  assert.equal((await userinfoStatus(rp, tokens.access_token)).status, 200)

  // Profile+ items are never granted silently to a public channel: the consent page shows again.
  const again = await authorizationUrl(rp, channel, 'openid profile real_name')
  const step = await browser.follow(again.url.href, issuer)
  assert.ok('page' in step, 'the consent page is shown again')
  assert.match(browser.formAction(), /\/consent$/)
  assert.deepEqual(offeredItems(browser.lastPage), ['real_name'])

  // Each refresh gives a new refresh token.
  const first = await client.refreshTokenGrant(rp, tokens.refresh_token!)
  assert.equal(typeof first.refresh_token, 'string')
  assert.notEqual(first.refresh_token, tokens.refresh_token)
  assert.notEqual(first.access_token, tokens.access_token)
  const second = await client.refreshTokenGrant(rp, first.refresh_token!)
  assert.notEqual(second.refresh_token, first.refresh_token)
  assert.notEqual(second.refresh_token, tokens.refresh_token)
  const info = await client.fetchUserInfo(rp, second.access_token, sub)
  assert.equal(info.family_name, '山田')

  // Reusing the consumed original refresh token fails and revokes the whole family.
  await assertTokenError(client.refreshTokenGrant(rp, tokens.refresh_token!), 'invalid_grant')
  const newest = await userinfoStatus(rp, second.access_token)
  assert.equal(newest.status, 401)
  assert.match(newest.challenge ?? '', /invalid_token/)
  assert.equal((await userinfoStatus(rp, first.access_token)).status, 401)
  assert.equal((await userinfoStatus(rp, tokens.access_token)).status, 401)
  await assertTokenError(client.refreshTokenGrant(rp, second.refresh_token!), 'invalid_grant')
})

// ---------------------------------------------------------------------------------------------
// 6. Remembered consent

test('consent is remembered: a returning user skips login and consent, and only new items are asked', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ items: ['email', 'real_name', 'phone'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()

  // First time: log in, share email, refuse real_name.
  const first = await authorizationUrl(rp, channel, 'openid profile email real_name')
  const firstCallback = await authorizeInBrowser(browser, issuer, first.url.href, { user, uncheck: ['real_name'] })
  const firstTokens = await exchange(rp, firstCallback, first)
  assert.deepEqual(firstTokens.claims()!.amr, ['pwd'])
  assert.equal(firstTokens.claims()!.email, user.email)
  assert.equal(firstTokens.claims()!.family_name, undefined)

  // Same scopes, live session: straight to the callback.
  const second = await authorizationUrl(rp, channel, 'openid profile email real_name')
  const secondCallback = callbackOf(await browser.get(second.url.href), issuer)
  assert.equal(secondCallback.searchParams.get('iss'), issuer)
  const secondTokens = await exchange(rp, secondCallback, second)
  const claims = secondTokens.claims()!
  assert.deepEqual(claims.amr, ['linesso'])
  assert.equal(claims.sub, firstTokens.claims()!.sub)
  assert.equal(claims.email, user.email)
  assert.equal(claims.family_name, undefined, 'the refused item stays refused')
  assert.equal(claims.given_name, undefined)

  // A new item: the consent page offers only that one.
  const third = await authorizationUrl(rp, channel, 'openid profile email real_name phone')
  const step = await browser.follow(third.url.href, issuer)
  assert.ok('page' in step, 'a consent page is shown for the new item')
  assert.equal(step.page.status, 200)
  assert.match(browser.formAction(), /\/consent$/)
  assert.deepEqual(offeredItems(browser.lastPage), ['phone'])
  assert.doesNotMatch(browser.lastPage, /name="items" value="(email|real_name)"/)
  const consented = await browser.post(new URL(browser.formAction(), issuer).href, { items: ['phone'], decision: 'allow' })
  const thirdCallback = callbackOf(consented, issuer)
  const thirdClaims = (await exchange(rp, thirdCallback, third)).claims()!
  assert.equal(thirdClaims.phone_number, '+819012345678')
  assert.equal(thirdClaims.email, user.email)
  assert.equal(thirdClaims.family_name, undefined)

  // Everything decided now: no page at all, the refused item still absent.
  const fourth = await authorizationUrl(rp, channel, 'openid profile email real_name phone')
  const fourthTokens = await exchange(rp, callbackOf(await browser.get(fourth.url.href), issuer), fourth)
  assert.equal(fourthTokens.claims()!.phone_number, '+819012345678')
  assert.equal(fourthTokens.claims()!.family_name, undefined)
  const info = await client.fetchUserInfo(rp, fourthTokens.access_token, fourthTokens.claims()!.sub)
  assert.equal(info.family_name, undefined)
  assert.equal(info.phone_number, '+819012345678')
})

// ---------------------------------------------------------------------------------------------
// 7. prompt=none

test('prompt=none: consent_required with a session and an undecided item, login_required without a session', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ items: ['email'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const first = await authorizationUrl(rp, channel, 'openid profile')
  await exchange(rp, await authorizeInBrowser(browser, issuer, first.url.href, { user }), first)

  // Control: nothing undecided, so prompt=none succeeds silently.
  const silent = await authorizationUrl(rp, channel, 'openid profile', { prompt: 'none' })
  const silentCallback = callbackOf(await browser.get(silent.url.href), issuer)
  assert.equal(silentCallback.searchParams.get('error'), null)
  assert.deepEqual((await exchange(rp, silentCallback, silent)).claims()!.amr, ['linesso'])

  const undecided = await authorizationUrl(rp, channel, 'openid profile email', { prompt: 'none' })
  assertErrorCallback(callbackOf(await browser.get(undecided.url.href), issuer), 'consent_required', undecided.state, issuer)

  const stranger = new WebBrowser()
  const noSession = await authorizationUrl(rp, channel, 'openid profile', { prompt: 'none' })
  assertErrorCallback(callbackOf(await stranger.get(noSession.url.href), issuer), 'login_required', noSession.state, issuer)
})

// ---------------------------------------------------------------------------------------------
// 8. response_mode=form_post

test('response_mode=form_post ends with a page posting code, state and iss to the callback', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const started = await authorizationUrl(rp, channel, 'openid profile', { response_mode: 'form_post' })

  const afterLogin = await logIn(browser, issuer, started.url.href, user)
  assert.ok('page' in afterLogin, 'the consent page follows the login')
  const consentAction = new URL(browser.formAction(), issuer).href
  assert.match(consentAction, /\/consent$/)
  const response = await browser.post(consentAction, { decision: 'allow' })

  assert.equal(response.status, 200)
  assert.equal(response.headers.get('location'), null)
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
  const page = browser.lastPage
  // The page's form to the callback (the header's logout form posts to plusid itself).
  const forms = [...page.matchAll(/<form([^>]*)>([\s\S]*?)<\/form>/g)].map(([, attributes, inner]) => ({
    method: /method="([^"]+)"/.exec(attributes!)?.[1],
    action: decodeHtml(/action="([^"]+)"/.exec(attributes!)?.[1] ?? ''),
    inner: inner!,
  }))
  const form = forms.find((f) => f.action === CALLBACK)
  assert.ok(form, `the page has a form posting to the callback: ${forms.map((f) => f.action).join(', ')}`)
  assert.equal(form.method?.toLowerCase(), 'post')
  const fields = new URLSearchParams()
  for (const [, name, value] of form.inner.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g))
    fields.append(decodeHtml(name!), decodeHtml(value!))
  assert.deepEqual([...fields.keys()].sort(), ['code', 'iss', 'state'])
  assert.equal(fields.get('state'), started.state)
  assert.equal(fields.get('iss'), issuer)
  assert.match(fields.get('code')!, /^[A-Za-z0-9_-]{22,}$/)

  const csp = response.headers.get('content-security-policy') ?? ''
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values]),
  )
  assert.ok(directives.get('form-action')?.includes('https://rp.example.com'), `form-action allows the callback origin: ${csp}`)
  assert.ok(directives.get('script-src')?.includes("'self'"), `script-src 'self': ${csp}`)
  assert.ok(!directives.get('script-src')?.includes("'unsafe-inline'"), 'no inline script')
  const script = /<script src="([^"]+)"><\/script>/.exec(page)
  assert.ok(script, 'the page loads its submit script from plusid')
  const js = await fetch(new URL(script[1]!, issuer))
  assert.equal(js.status, 200)
  assert.match(await js.text(), /form-post/)

  // What the browser would post: openid-client accepts it and exchanges the code.
  const post = new Request(CALLBACK, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: fields.toString(),
  })
  const tokens = await exchange(rp, post, started)
  assert.equal(tokens.claims()!.aud, channel.channelId)
  assert.equal(tokens.claims()!.nonce, started.nonce)
})

// ---------------------------------------------------------------------------------------------
// 9. Denial

test('Cancel on the consent page and Cancel on the login page both give access_denied', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ items: ['email'] })
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)

  const denied = await authorizationUrl(rp, channel, 'openid profile email')
  const deniedCallback = await authorizeInBrowser(new WebBrowser(), issuer, denied.url.href, { user, decision: 'deny' })
  assertErrorCallback(deniedCallback, 'access_denied', denied.state, issuer)
  await assert.rejects(exchange(rp, deniedCallback, denied), (error: unknown) => {
    assert.ok(error instanceof client.AuthorizationResponseError)
    assert.equal(error.error, 'access_denied')
    return true
  })

  const browser = new WebBrowser()
  const cancelled = await authorizationUrl(rp, channel, 'openid profile email')
  const step = await browser.follow(cancelled.url.href, issuer)
  assert.ok('page' in step)
  const action = new URL(browser.formAction(), issuer).href
  assert.match(action, /\/login$/)
  const response = await browser.post(action, { decision: 'cancel' })
  assertErrorCallback(callbackOf(response, issuer), 'access_denied', cancelled.state, issuer)
  assert.ok(![...browser.cookies.keys()].some((name) => name.endsWith('plusid_session')), 'no one logged in')
})

// ---------------------------------------------------------------------------------------------
// 10. Inline fill-in on the consent page

test('a missing phone number is filled in on the consent page: invalid is refused with 400, valid is shared as E.164', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ items: ['phone'] })
  const user = await createTestUser({ profile: null })
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const started = await authorizationUrl(rp, channel, 'openid profile phone')

  const afterLogin = await logIn(browser, issuer, started.url.href, user)
  assert.ok('page' in afterLogin)
  assert.equal(afterLogin.page.status, 200)
  const action = new URL(browser.formAction(), issuer).href
  assert.match(action, /\/consent$/)
  assert.deepEqual(offeredItems(browser.lastPage), ['phone'])
  assert.match(browser.lastPage, /<input[^>]*name="phone_number"/)

  const invalid = await browser.post(action, { items: ['phone'], decision: 'allow', phone_number: 'not a phone' })
  assert.equal(invalid.status, 400)
  assert.match(invalid.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(browser.lastPage, /<input[^>]*name="phone_number"[^>]*value="not a phone"[^>]*aria-invalid="true"/)
  assert.match(browser.lastPage, /role="alert"/)
  assert.deepEqual(offeredItems(browser.lastPage), ['phone'])

  const valid = await browser.post(new URL(browser.formAction(), issuer).href, {
    items: ['phone'],
    decision: 'allow',
    phone_number: '090-1111-2222',
  })
  const callback = callbackOf(valid, issuer)
  const tokens = await exchange(rp, callback, started)
  assert.equal(tokens.claims()!.phone_number, '+819011112222')
  const info = await client.fetchUserInfo(rp, tokens.access_token, tokens.claims()!.sub)
  assert.equal(info.phone_number, '+819011112222')
})

// ---------------------------------------------------------------------------------------------
// 11. Developing channel

test('a developing channel refuses an outsider with access_denied after login and lets a tester through', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel({ publish: false })
  const outsider = await createTestUser()
  const tester = await createTestUser()
  await addTester(channel.channelId, tester.userId)
  const rp = await relyingParty(issuer, channel)

  const refused = await authorizationUrl(rp, channel, 'openid profile')
  const outsiderBrowser = new WebBrowser()
  const afterLogin = await logIn(outsiderBrowser, issuer, refused.url.href, outsider)
  assert.ok('callback' in afterLogin, 'the outsider is sent back after the login, no consent page')
  assertErrorCallback(afterLogin.callback, 'access_denied', refused.state, issuer)

  const allowed = await authorizationUrl(rp, channel, 'openid profile')
  const callback = await authorizeInBrowser(new WebBrowser(), issuer, allowed.url.href, { user: tester })
  assert.equal(callback.searchParams.get('error'), null)
  const tokens = await exchange(rp, callback, allowed)
  assert.equal(tokens.claims()!.aud, channel.channelId)
  assert.equal(tokens.claims()!.name, tester.name)
})

// ---------------------------------------------------------------------------------------------
// 12. Browser binding

test('an interaction opened in another browser gets a 404 page', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const started = await authorizationUrl(rp, channel, 'openid profile')
  const response = await browser.get(started.url.href)
  assert.equal(response.status, 303)
  const interaction = new URL(response.headers.get('location')!, issuer).href
  assert.match(interaction, /\/interaction\/[A-Za-z0-9_-]+$/)

  const other = new WebBrowser()
  const stolen = await other.get(interaction)
  assert.equal(stolen.status, 404)
  assert.match(stolen.headers.get('content-type') ?? '', /^text\/html/)
  assert.doesNotMatch(other.lastPage, /name="password"/)

  // The browser that started it still has its login page.
  const own = await browser.get(interaction)
  assert.equal(own.status, 200)
  assert.match(browser.lastPage, /name="password"/)
})

// ---------------------------------------------------------------------------------------------
// 13. Expired interaction

test('a login page left past its expiry shows an "expired" page (410) that links back to the site', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const browser = new WebBrowser()
  const started = await authorizationUrl(rp, channel, 'openid profile')
  const step = await browser.follow(started.url.href, issuer)
  assert.ok('page' in step)
  assert.equal(step.page.status, 200)
  const action = new URL(browser.formAction(), issuer).href
  const id = /\/interaction\/([A-Za-z0-9_-]+)\/login$/.exec(action)?.[1]
  assert.ok(id, action)

  const { db } = await database
  const updated = await db
    .updateTable('interactions')
    .set({ expires_at: new Date(Date.now() - 60_000) })
    .where('id', '=', id)
    .executeTakeFirst()
  assert.equal(Number(updated.numUpdatedRows), 1)

  const checkExpiredPage = (response: Response, page: string) => {
    assert.equal(response.status, 410)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(page, /expired/i)
    assert.doesNotMatch(page, /name="password"/)
    const links = [...page.matchAll(/<a href="([^"]+)"/g)].map((m) => new URL(decodeHtml(m[1]!), issuer))
    const back = links.find((link) => link.origin === new URL(CALLBACK).origin)
    assert.ok(back, `the page links back to the site: ${links.map(String).join(', ')}`)
    assert.equal(`${back.origin}${back.pathname}`, CALLBACK)
    assert.equal(back.searchParams.get('state'), started.state)
  }

  // The form submitted late.
  const late = await browser.post(action, { email: user.email, password: user.password })
  checkExpiredPage(late, browser.lastPage)
  // The page reloaded late.
  const reloaded = await browser.get(`${issuer}/interaction/${id}`)
  checkExpiredPage(reloaded, browser.lastPage)
})

// ---------------------------------------------------------------------------------------------
// 14. Single-use code

test('an authorization code is single use: the second exchange fails and revokes the first access token', async (t) => {
  const { issuer } = await server(t)
  const channel = await createTestChannel()
  const user = await createTestUser()
  const rp = await relyingParty(issuer, channel)
  const started = await authorizationUrl(rp, channel, 'openid profile')
  const callback = await authorizeInBrowser(new WebBrowser(), issuer, started.url.href, { user })
  const tokens = await exchange(rp, callback, started)
  const sub = tokens.claims()!.sub
  assert.equal((await client.fetchUserInfo(rp, tokens.access_token, sub)).sub, sub)

  await assertTokenError(exchange(rp, callback, started), 'invalid_grant')

  const after = await userinfoStatus(rp, tokens.access_token)
  assert.equal(after.status, 401)
  assert.match(after.challenge ?? '', /invalid_token/)
  await assertTokenError(client.refreshTokenGrant(rp, tokens.refresh_token!), 'invalid_grant')
})

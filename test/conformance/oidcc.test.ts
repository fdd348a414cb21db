// The OpenID certification suite's Basic OP and Config OP plans, one test per module, plus
// oidcc-server-rotate-keys. The checks the suite applies to every flow live in the helpers at
// the top: discovery and JWKS, the authorization response, the code, the token response, the ID token, claim typing and UserInfo.
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { test, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import type { FastifyInstance } from 'fastify'
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet, type JWTPayload } from 'jose'
import { rotateSigningKeys } from '../../src/oauth/keys.ts'
import { TEST_MASTER_KEY } from '../helpers/app.ts'
import { testDatabase } from '../helpers/database.ts'
import { CALLBACK, createTestChannel, createTestUser, startServer, WebBrowser, type TestChannel, type TestUser } from '../helpers/oidc.ts'

// The file's database, created at the top level so that it is dropped after the whole file.
const database = await testDatabase()

/** Every data item, so that the Profile+ and email scopes are permitted. */
const ITEMS = ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address']
const DISCOVERY_SUFFIX = '/.well-known/openid-configuration'
const ONE_YEAR = 365 * 24 * 3600

type Json = Record<string, unknown>

// ---------------------------------------------------------------------------------------------
// Discovery and JWKS (§2.2 first two bullets)

interface Provider {
  app: FastifyInstance
  issuer: string
  discovery: Json
}

async function fetchJson(url: string, init: RequestInit = {}): Promise<{ response: Response; body: Json }> {
  const response = await fetch(url, { redirect: 'manual', ...init })
  const text = await response.text()
  let body: Json
  try {
    body = JSON.parse(text) as Json
  } catch {
    assert.fail(`${init.method ?? 'GET'} ${url} answered ${response.status} with a body that is not JSON: ${text.slice(0, 300)}`)
  }
  return { response, body }
}

async function fetchDiscovery(issuer: string): Promise<{ response: Response; discovery: Json }> {
  const { response, body } = await fetchJson(issuer + DISCOVERY_SUFFIX)
  assert.equal(response.status, 200, 'discovery answers 200')
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'discovery is served as JSON')
  for (const member of ['issuer', 'authorization_endpoint', 'token_endpoint'])
    assert.equal(typeof body[member], 'string', `discovery has ${member}`)
  return { response, discovery: body }
}

const PRIVATE_JWK_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k']

/** The JWK set at jwks_uri: parseable, each key with a distinct non-blank kid, public keys only. */
async function fetchJwks(discovery: Json): Promise<JSONWebKeySet> {
  const { response, body } = await fetchJson(discovery.jwks_uri as string)
  assert.equal(response.status, 200, 'the JWKS answers 200')
  assert.ok(Array.isArray(body.keys) && body.keys.length > 0, 'the JWKS has keys')
  const keys = body.keys as Json[]
  const kids = keys.map((key) => key.kid)
  for (const key of keys) {
    assert.equal(typeof key.kty, 'string', 'every JWK has a kty')
    assert.ok(typeof key.kid === 'string' && key.kid.trim() !== '', `every JWK has a non-blank kid: ${JSON.stringify(key)}`)
    for (const member of PRIVATE_JWK_MEMBERS)
      assert.equal(key[member], undefined, `JWK ${String(key.kid)} carries private or symmetric key material '${member}'`)
  }
  assert.equal(new Set(kids).size, kids.length, `kids are distinct: ${kids.join(', ')}`)
  return body as unknown as JSONWebKeySet
}

async function openProvider(t: TestContext): Promise<Provider> {
  const { app, issuer } = await startServer(t)
  const { discovery } = await fetchDiscovery(issuer)
  await fetchJwks(discovery)
  return { app, issuer, discovery }
}

// ---------------------------------------------------------------------------------------------
// Authorization requests and responses

/** A test bed: a running plusid, a confidential channel permitted every item, and a user with a full profile. */
async function setup(t: TestContext, options: { alg?: 'RS256' | 'ES256'; callbackUrls?: string[] } = {}) {
  const provider = await openProvider(t)
  const channel = await newChannel(options)
  const user = await createTestUser()
  return { provider, channel, user }
}

function newChannel(options: { alg?: 'RS256' | 'ES256'; callbackUrls?: string[] } = {}): Promise<TestChannel> {
  return createTestChannel({
    items: ITEMS,
    idTokenAlg: options.alg ?? 'RS256',
    ...(options.callbackUrls ? { callbackUrls: options.callbackUrls } : {}),
  })
}

const randomValue = (bytes = 24) => randomBytes(bytes).toString('base64url')

type Params = Record<string, string | undefined>

interface AuthorizationRequest {
  url: string
  params: Record<string, string>
}

/**
 * The suite's default request (response_type=code, scope=openid, state, nonce), with overrides;
 * an override of undefined removes the parameter. `order` puts those names first.
 */
function authorizationRequest(
  provider: Provider,
  channel: TestChannel,
  overrides: Params = {},
  order: string[] = [],
): AuthorizationRequest {
  const merged: Params = {
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid',
    state: randomValue(),
    nonce: randomValue(),
    ...overrides,
  }
  const params: Record<string, string> = {}
  for (const name of [...order, ...Object.keys(merged)]) {
    const value = merged[name]
    if (value !== undefined && !(name in params)) params[name] = value
  }
  const url = new URL(provider.discovery.authorization_endpoint as string)
  for (const [name, value] of Object.entries(params)) url.searchParams.append(name, value)
  return { url: url.href, params }
}

type Page = 'login' | 'consent'

/**
 * Walks the browser from an authorization request (a URL, or the response to a POSTed one) to
 * the callback, logging in and allowing every item on the pages that appear, which it records.
 */
async function walk(
  browser: WebBrowser,
  provider: Provider,
  start: string | Response,
  user: TestUser | undefined,
): Promise<{ callback: URL; pages: Page[] }> {
  const base = provider.issuer
  const pages: Page[] = []
  let step: { callback: URL } | { page: Response }
  if (typeof start === 'string') {
    step = await browser.follow(start, base)
  } else if (start.status >= 300 && start.status < 400) {
    const location = new URL(start.headers.get('location')!, base)
    step = location.href.startsWith(base) ? await browser.follow(location.href, base) : { callback: location }
  } else {
    if (start.headers.get('content-type')?.startsWith('text/html')) browser.lastPage = await start.clone().text()
    step = { page: start }
  }
  for (let hops = 0; hops < 5; hops++) {
    if ('callback' in step) return { callback: step.callback, pages }
    const { page } = step
    assert.equal(page.status, 200, `unexpected page ${page.status}:\n${browser.lastPage.slice(0, 1500)}`)
    const action = new URL(browser.formAction(), base).href
    let response: Response
    if (action.endsWith('/login')) {
      pages.push('login')
      assert.ok(user, 'a login page appeared but the test gave no user')
      response = await browser.post(action, { email: user.email, password: user.password })
      assert.equal(response.status, 303, `login failed: ${browser.lastPage.slice(0, 500)}`)
    } else if (action.endsWith('/consent')) {
      pages.push('consent')
      const items = [...browser.lastPage.matchAll(/name="items" value="([a-z_]+)"/g)].map((m) => m[1]!)
      response = await browser.post(action, { items, decision: 'allow' })
    } else {
      throw new Error(`unexpected form action ${action}`)
    }
    if (response.status >= 300 && response.status < 400) {
      const location = new URL(response.headers.get('location')!, base)
      step = location.href.startsWith(base) ? await browser.follow(location.href, base) : { callback: location }
    } else {
      step = { page: response }
    }
  }
  throw new Error(`the authorization did not finish (pages: ${pages.join(', ')})`)
}

/** The callback is the registered redirect URI, its own query parameters kept (§2.2). */
function assertReturnedTo(callback: URL, channel: TestChannel) {
  const registered = new URL(channel.redirectUri)
  assert.equal(
    callback.origin + callback.pathname,
    registered.origin + registered.pathname,
    `the response went to ${callback.href}, not the registered redirect URI`,
  )
  for (const [name, value] of registered.searchParams)
    assert.ok(
      callback.searchParams.getAll(name).includes(value),
      `the redirect URI's own query parameter ${name}=${value} was dropped: ${callback.href}`,
    )
}

/** At least 128 bits long and about 96 bits of measured entropy (§2.2). */
function assertStrongCode(code: string) {
  const base64url = /^[A-Za-z0-9_-]+$/.test(code)
  const lengthBits = code.length * (base64url ? 6 : 4)
  assert.ok(lengthBits >= 128, `the code ${code} is shorter than 128 bits`)
  const counts = new Map<string, number>()
  for (const c of code) counts.set(c, (counts.get(c) ?? 0) + 1)
  let perChar = 0
  for (const n of counts.values()) perChar -= (n / code.length) * Math.log2(n / code.length)
  assert.ok(perChar * code.length >= 96, `the code ${code} measures only ${Math.round(perChar * code.length)} bits of entropy`)
}

/** A successful authorization response: the code, `state` unchanged, `iss` the issuer (§2.2). */
function assertAuthorizationSuccess(provider: Provider, channel: TestChannel, callback: URL, request: AuthorizationRequest): string {
  assertReturnedTo(callback, channel)
  assert.equal(callback.searchParams.get('error'), null, `the authorization failed: ${callback.href}`)
  assert.equal(callback.searchParams.get('state'), request.params.state ?? null, 'state is returned unchanged')
  // Discovery says authorization_response_iss_parameter_supported, so iss must be there (RFC 9207 §3).
  assert.equal(callback.searchParams.get('iss'), provider.issuer, 'iss equals the issuer')
  const code = callback.searchParams.get('code')
  assert.ok(code, `no code in ${callback.href}`)
  assertStrongCode(code)
  return code
}

const ERROR_RESPONSE_MEMBERS = ['error', 'error_description', 'error_uri', 'state', 'session_state', 'iss']
// RFC 6749 §4.1.2.1: %x20-21 / %x23-5B / %x5D-7E.
const ERROR_DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/

/** An authorization error response by redirect (§2.2 last bullet): no code, only the allowed members. */
function assertAuthorizationError(
  provider: Provider,
  channel: TestChannel,
  callback: URL,
  state: string | undefined,
  errors: string[],
): string {
  assertReturnedTo(callback, channel)
  const ownQuery = new Set(new URL(channel.redirectUri).searchParams.keys())
  assert.equal(callback.searchParams.get('code'), null, `an error response carries a code: ${callback.href}`)
  const error = callback.searchParams.get('error')
  assert.ok(error !== null && errors.includes(error), `expected error ∈ {${errors.join(', ')}}, got ${callback.href}`)
  assert.equal(callback.searchParams.get('state'), state ?? null, 'state is returned unchanged')
  assert.equal(callback.searchParams.get('iss'), provider.issuer, 'iss equals the issuer')
  for (const name of callback.searchParams.keys()) {
    if (!ownQuery.has(name)) assert.ok(ERROR_RESPONSE_MEMBERS.includes(name), `unexpected member ${name} in the error response`)
  }
  const description = callback.searchParams.get('error_description')
  if (description !== null) assert.match(description, ERROR_DESCRIPTION, 'error_description uses the RFC 6749 character set')
  return error
}

/** The authorization half: from the request to a checked code. */
async function authorize(
  provider: Provider,
  channel: TestChannel,
  options: { user?: TestUser; browser?: WebBrowser; params?: Params; order?: string[] } = {},
): Promise<{ browser: WebBrowser; request: AuthorizationRequest; callback: URL; pages: Page[]; code: string }> {
  const browser = options.browser ?? new WebBrowser()
  const request = authorizationRequest(provider, channel, options.params, options.order)
  const { callback, pages } = await walk(browser, provider, request.url, options.user)
  const code = assertAuthorizationSuccess(provider, channel, callback, request)
  return { browser, request, callback, pages, code }
}

// ---------------------------------------------------------------------------------------------
// Token endpoint

type ClientAuth = 'basic' | 'post'

/** application/x-www-form-urlencoded encoding of one value (RFC 6749 §2.3.1 for Basic). */
const formEncode = (value: string) => new URLSearchParams({ v: value }).toString().slice(2)

function tokenRequest(
  provider: Provider,
  channel: TestChannel,
  form: Record<string, string>,
  auth: ClientAuth = 'basic',
): Promise<{ response: Response; body: Json }> {
  const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  const fields = { ...form }
  if (auth === 'basic')
    headers.authorization = `Basic ${Buffer.from(`${formEncode(channel.channelId)}:${formEncode(channel.secret!)}`).toString('base64')}`
  else Object.assign(fields, { client_id: channel.channelId, client_secret: channel.secret! })
  return fetchJson(provider.discovery.token_endpoint as string, { method: 'POST', headers, body: new URLSearchParams(fields).toString() })
}

/** A successful token response (§2.2): 200 JSON, never cached, Bearer, expires_in sane. */
function assertTokenResponse(response: Response, body: Json, options: { idToken: boolean }) {
  assert.equal(response.status, 200, `the token endpoint answered ${response.status}: ${JSON.stringify(body)}`)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.match(response.headers.get('cache-control') ?? '', /no-store/, 'Cache-Control: no-store')
  assert.ok(typeof body.access_token === 'string' && body.access_token !== '', 'access_token present')
  assert.equal(body.token_type, 'Bearer')
  if (body.expires_in !== undefined) {
    assert.equal(typeof body.expires_in, 'number', 'expires_in is a number')
    assert.ok(
      (body.expires_in as number) > 0 && (body.expires_in as number) <= ONE_YEAR,
      `expires_in ${String(body.expires_in)} is positive and at most a year`,
    )
  }
  if (options.idToken) assert.ok(typeof body.id_token === 'string' && body.id_token !== '', 'id_token present')
}

async function exchangeCode(
  provider: Provider,
  channel: TestChannel,
  code: string,
  options: { auth?: ClientAuth; codeVerifier?: string } = {},
): Promise<Json> {
  const form: Record<string, string> = { grant_type: 'authorization_code', code, redirect_uri: channel.redirectUri }
  if (options.codeVerifier) form.code_verifier = options.codeVerifier
  const { response, body } = await tokenRequest(provider, channel, form, options.auth)
  assertTokenResponse(response, body, { idToken: true })
  return body
}

/** A refused token request: 400 JSON with the error code. */
function assertTokenError(response: Response, body: Json, error: string) {
  assert.equal(response.status, 400, `expected 400 ${error}, got ${response.status} ${JSON.stringify(body)}`)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(body.error, error)
}

// ---------------------------------------------------------------------------------------------
// ID token and claims

const STRING_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'preferred_username',
  'profile',
  'picture',
  'website',
  'email',
  'gender',
  'zoneinfo',
  'locale',
  'phone_number',
]

/** Standard claim typing (§2.2), for the ID token and UserInfo alike. */
function assertClaimTypes(claims: Json, where: string) {
  for (const name of STRING_CLAIMS) {
    if (claims[name] === undefined) continue
    assert.equal(typeof claims[name], 'string', `${where}: ${name} is a string`)
    const value = claims[name] as string
    assert.ok(value.trim() !== '' && value !== 'null', `${where}: ${name} is blank or "null"`)
  }
  for (const name of ['email_verified', 'phone_number_verified']) {
    if (claims[name] !== undefined)
      assert.equal(typeof claims[name], 'boolean', `${where}: ${name} is a boolean, not ${JSON.stringify(claims[name])}`)
  }
  if (claims.birthdate !== undefined) {
    const match = /^(\d{4})(?:-(\d{2})-(\d{2}))?$/.exec(String(claims.birthdate))
    assert.ok(
      typeof claims.birthdate === 'string' && match,
      `${where}: birthdate ${JSON.stringify(claims.birthdate)} is YYYY-MM-DD, 0000-MM-DD or YYYY`,
    )
    const year = Number(match[1])
    if (!(year === 0 && match[2] !== undefined))
      assert.ok(year >= 1850 && year <= new Date().getFullYear(), `${where}: birthdate year ${year}`)
  }
  if (claims.address !== undefined) {
    const address = claims.address
    assert.ok(typeof address === 'object' && address !== null && !Array.isArray(address), `${where}: address is a JSON object`)
    for (const [member, value] of Object.entries(address)) assert.equal(typeof value, 'string', `${where}: address.${member} is a string`)
  }
  if (claims.updated_at !== undefined) {
    assert.equal(typeof claims.updated_at, 'number', `${where}: updated_at is a number`)
    assert.ok((claims.updated_at as number) > Date.UTC(1990, 0, 1) / 1000, `${where}: updated_at after 1990`)
  }
}

const now = () => Date.now() / 1000

/**
 * PerformStandardIdTokenChecks: signature against the published JWKS, iss, aud, exp, iat,
 * auth_time, nonce, acr, sub, at_hash, claim types.
 */
async function assertIdToken(
  provider: Provider,
  channel: TestChannel,
  idToken: string,
  options: { nonce: string | undefined; accessToken?: string },
): Promise<JWTPayload & Json> {
  const header = decodeProtectedHeader(idToken)
  assert.ok(header.alg === 'RS256' || header.alg === 'ES256', `ID token alg ${String(header.alg)}`)
  assert.ok(typeof header.kid === 'string' && header.kid !== '', 'the ID token header carries a kid')
  const jwks = await fetchJwks(provider.discovery)
  assert.ok(
    jwks.keys.some((key) => key.kid === header.kid),
    `the ID token's kid ${header.kid} is in the JWKS`,
  )
  const { payload } = await jwtVerify(idToken, createLocalJWKSet(jwks), { algorithms: [header.alg], clockTolerance: 0 })
  const claims = payload as JWTPayload & Json
  const t = now()
  assert.equal(claims.iss, provider.issuer, 'iss equals the issuer')
  assert.ok(
    claims.aud === channel.channelId || (Array.isArray(claims.aud) && claims.aud.includes(channel.channelId)),
    `aud ${JSON.stringify(claims.aud)} is the client_id`,
  )
  assert.equal(typeof claims.exp, 'number', 'exp present')
  assert.ok(claims.exp! > t, 'exp not passed')
  assert.ok(claims.exp! < t + 50 * ONE_YEAR, 'exp in seconds, not more than 50 years out')
  assert.equal(typeof claims.iat, 'number', 'iat present')
  assert.ok(claims.iat! <= t, 'iat not in the future')
  assert.ok(claims.iat! > t - 300, 'iat not more than 5 minutes old')
  if (claims.auth_time !== undefined) {
    assert.equal(typeof claims.auth_time, 'number', 'auth_time is a number')
    assert.ok(
      (claims.auth_time as number) <= t && (claims.auth_time as number) > t - ONE_YEAR,
      'auth_time within the last year and not in the future',
    )
  }
  if (options.nonce === undefined) assert.equal(claims.nonce, undefined, 'no nonce was sent, so none comes back')
  else assert.equal(claims.nonce, options.nonce, 'nonce equals the request nonce')
  if (claims.acr !== undefined) assert.ok(typeof claims.acr === 'string' && claims.acr !== '', 'acr is a non-empty string')
  assert.ok(typeof claims.sub === 'string' && claims.sub !== '', 'sub present')
  if (claims.at_hash !== undefined && options.accessToken !== undefined) {
    const expected = createHash('sha256').update(options.accessToken, 'ascii').digest().subarray(0, 16).toString('base64url')
    assert.equal(claims.at_hash, expected, 'at_hash matches the access token')
  }
  assertClaimTypes(claims, 'ID token')
  return claims
}

// ---------------------------------------------------------------------------------------------
// UserInfo

type UserInfoMethod = 'get' | 'post-header' | 'post-body'

async function userInfo(
  provider: Provider,
  accessToken: string,
  method: UserInfoMethod = 'get',
): Promise<{ response: Response; body: Json }> {
  const endpoint = provider.discovery.userinfo_endpoint as string
  if (method === 'get') return fetchJson(endpoint, { headers: { authorization: `Bearer ${accessToken}` } })
  if (method === 'post-header') return fetchJson(endpoint, { method: 'POST', headers: { authorization: `Bearer ${accessToken}` } })
  return fetchJson(endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ access_token: accessToken }).toString(),
  })
}

/** UserInfo answers 200 JSON for the ID token's sub, with well-typed claims. */
async function assertUserInfo(provider: Provider, accessToken: string, sub: string, method: UserInfoMethod = 'get'): Promise<Json> {
  const { response, body } = await userInfo(provider, accessToken, method)
  assert.equal(response.status, 200, `UserInfo (${method}) answered ${response.status}: ${JSON.stringify(body)}`)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/, 'UserInfo is application/json')
  assert.equal(body.sub, sub, 'UserInfo sub equals the ID token sub')
  assertClaimTypes(body, 'UserInfo')
  return body
}

// ---------------------------------------------------------------------------------------------
// A whole code flow with every common check

interface Flow {
  browser: WebBrowser
  request: AuthorizationRequest
  callback: URL
  pages: Page[]
  tokens: Json
  idToken: string
  claims: JWTPayload & Json
  userinfo: Json
}

async function codeFlow(
  provider: Provider,
  channel: TestChannel,
  options: {
    user?: TestUser
    browser?: WebBrowser
    params?: Params
    order?: string[]
    auth?: ClientAuth
    codeVerifier?: string
    userinfo?: UserInfoMethod
  } = {},
): Promise<Flow> {
  const authorization = await authorize(provider, channel, options)
  const tokens = await exchangeCode(provider, channel, authorization.code, options)
  const idToken = tokens.id_token as string
  const claims = await assertIdToken(provider, channel, idToken, {
    nonce: authorization.request.params.nonce,
    accessToken: tokens.access_token as string,
  })
  const userinfo = await assertUserInfo(provider, tokens.access_token as string, claims.sub!, options.userinfo)
  return { ...authorization, tokens, idToken, claims, userinfo }
}

/** Claims the suite expects for a scope; missing ones are only WARNINGs there, reported here as diagnostics. */
function warnMissing(t: TestContext, claims: Json, expected: string[], where: string) {
  const missing = expected.filter((name) => claims[name] === undefined)
  if (missing.length > 0) t.diagnostic(`WARNING (suite level, not a failure): ${where} lacks ${missing.join(', ')}`)
}

const PROTOCOL_CLAIMS = ['iss', 'sub', 'aud', 'exp', 'iat', 'auth_time', 'nonce', 'acr', 'amr', 'azp', 'at_hash', 'c_hash', 'sid']
const PROFILE_SCOPE_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'middle_name',
  'nickname',
  'profile',
  'picture',
  'website',
  'gender',
  'birthdate',
  'zoneinfo',
  'locale',
  'updated_at',
  'preferred_username',
]

/** The suite's ID-token-expecting flows with no login in between: the same browser, no page. */
function assertSilent(flow: Flow) {
  assert.deepEqual(flow.pages, [], `the second request showed ${flow.pages.join(', ')}`)
}

// =============================================================================================
// Basic OP plan (§2.3)

test('oidcc-server: the code flow completes, the redirect URI keeps its query, at_hash is right and the ID token has no unrequested claims', async (t) => {
  const { provider, channel, user } = await setup(t, { callbackUrls: [`${CALLBACK}?tenant=conformance`] })
  const flow = await codeFlow(provider, channel, { user })
  assert.equal(flow.callback.searchParams.get('tenant'), 'conformance')
  assert.ok(flow.pages.includes('login'), 'a fresh browser logs in')
  assert.equal(typeof flow.claims.at_hash, 'string', 'the ID token carries at_hash (checked against the access token)')
  const extra = Object.keys(flow.claims).filter((name) => !PROTOCOL_CLAIMS.includes(name))
  assert.deepEqual(extra, [], `scope=openid: the ID token carries unrequested claims ${extra.join(', ')}`)
  assert.equal(flow.claims.name, undefined)
})

test('oidcc-response-type-missing: no response_type is refused by redirect (invalid_request, with state) or an error page; never a code', async (t) => {
  const { provider, channel } = await setup(t)
  const request = authorizationRequest(provider, channel, { response_type: undefined })
  const browser = new WebBrowser()
  const response = await browser.get(request.url)
  if (response.status >= 300 && response.status < 400) {
    const location = new URL(response.headers.get('location')!, provider.issuer)
    assert.ok(!location.href.startsWith(provider.issuer), `the OP went on to ${location.href} instead of refusing the request`)
    const error = assertAuthorizationError(provider, channel, location, request.params.state, [
      'invalid_request',
      'unsupported_response_type',
    ])
    assert.equal(error, 'invalid_request')
  } else {
    assert.ok(response.status >= 400, `an error page, not ${response.status}`)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    assert.doesNotMatch(browser.lastPage, /name="password"/, 'no login page')
  }
})

test('oidcc-idtoken-signature: default ID token alg of a dynamically registered client', {
  skip: 'dynamic-client only: plusid has no dynamic registration (static RS256 channels are verified in every flow here)',
}, () => {})

test('oidcc-idtoken-unsigned: id_token_signed_response_alg=none', {
  skip: 'dynamic-client only, and discovery does not list none',
}, () => {})

test('oidcc-userinfo-get: GET with a Bearer header answers 200 application/json with the ID token sub', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, userinfo: 'get' })
  assert.match(flow.userinfo.sub as string, /^U[0-9a-f]{32}$/)
})

test('oidcc-userinfo-post-header: POST with the Authorization header answers 200 with the ID token sub', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, userinfo: 'post-header' })
  assert.equal(flow.userinfo.sub, flow.claims.sub)
})

test('oidcc-userinfo-post-body: POST with the access_token form field answers 200 with the ID token sub', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, userinfo: 'post-body' })
  assert.equal(flow.userinfo.sub, flow.claims.sub)
})

test('oidcc-ensure-request-without-nonce-succeeds-for-code-flow: no nonce still gives a code, and the ID token has no nonce', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { nonce: undefined } })
  assert.equal(flow.request.params.nonce, undefined)
  assert.equal(flow.claims.nonce, undefined)
})

test('oidcc-scope-profile: scope openid profile gives the profile claims at UserInfo', async (t) => {
  const { provider, channel, user } = await setup(t)
  assert.ok((provider.discovery.scopes_supported as string[]).includes('profile'), 'profile is advertised, so the module runs')
  const flow = await codeFlow(provider, channel, { user, params: { scope: 'openid profile' } })
  assert.equal(flow.userinfo.name, user.name)
  warnMissing(t, flow.userinfo, PROFILE_SCOPE_CLAIMS, 'UserInfo for scope profile')
})

test('oidcc-scope-email: scope openid email gives email and a boolean email_verified at UserInfo', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { scope: 'openid email' } })
  assert.equal(flow.userinfo.email, user.email)
  assert.equal(typeof flow.userinfo.email_verified, 'boolean')
})

test('oidcc-scope-address: scope openid address gives address as an object of strings at UserInfo', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { scope: 'openid address' } })
  assert.deepEqual(flow.userinfo.address, {
    postal_code: '1028282',
    region: '東京都',
    locality: '千代田区紀尾井町',
    street_address: '1番3号',
    country: 'JP',
  })
})

test('oidcc-scope-phone: scope openid phone gives phone_number and a boolean phone_number_verified at UserInfo', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { scope: 'openid phone' } })
  assert.equal(flow.userinfo.phone_number, '+819012345678')
  assert.equal(typeof flow.userinfo.phone_number_verified, 'boolean')
})

test('oidcc-scope-all: scope openid profile email address phone gives the union at UserInfo (ES256 channel)', async (t) => {
  const { provider, channel, user } = await setup(t, { alg: 'ES256' })
  const flow = await codeFlow(provider, channel, { user, params: { scope: 'openid profile email address phone' } })
  assert.equal(decodeProtectedHeader(flow.idToken).alg, 'ES256')
  assert.equal(flow.userinfo.name, user.name)
  assert.equal(flow.userinfo.email, user.email)
  assert.equal(typeof flow.userinfo.email_verified, 'boolean')
  assert.equal(flow.userinfo.phone_number, '+819012345678')
  assert.equal(typeof flow.userinfo.phone_number_verified, 'boolean')
  assert.equal((flow.userinfo.address as Json | undefined)?.country, 'JP')
  warnMissing(t, flow.userinfo, PROFILE_SCOPE_CLAIMS, 'UserInfo for scope profile')
})

test('oidcc-alternate-happy-flow: reversed scope order and reordered parameters work (email checks)', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, {
    user,
    params: { scope: 'email openid' },
    order: ['nonce', 'state', 'scope', 'redirect_uri', 'client_id', 'response_type'],
  })
  assert.ok(flow.request.url.includes('?nonce='), 'the request starts with nonce')
  assert.equal(flow.userinfo.email, user.email)
  assert.equal(typeof flow.userinfo.email_verified, 'boolean')
})

test('oidcc-display-page: display=page does not cause an error', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { display: 'page' } })
  assert.ok(flow.pages.includes('login'))
})

test('oidcc-display-popup: display=popup does not cause an error', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { display: 'popup' } })
  assert.ok(flow.pages.includes('login'))
})

test('oidcc-prompt-login: a second request with prompt=login shows the login page again and auth_time moves on', async (t) => {
  const { provider, channel, user } = await setup(t)
  const first = await codeFlow(provider, channel, { user })
  await sleep(1100)
  const second = await codeFlow(provider, channel, { user, browser: first.browser, params: { prompt: 'login' } })
  assert.deepEqual(second.pages, ['login'], 'the login page is shown again (and nothing else)')
  assert.equal(second.claims.sub, first.claims.sub)
  assert.equal(typeof first.claims.auth_time, 'number')
  assert.equal(typeof second.claims.auth_time, 'number')
  assert.ok(
    (second.claims.auth_time as number) > (first.claims.auth_time as number),
    `auth_time ${String(second.claims.auth_time)} is later than ${String(first.claims.auth_time)}`,
  )
})

test('oidcc-prompt-none-not-logged-in: no session + prompt=none redirects with login_required and the 128-character state intact', async (t) => {
  const { provider, channel } = await setup(t)
  const state = randomBytes(96).toString('base64url')
  assert.equal(state.length, 128)
  const request = authorizationRequest(provider, channel, { prompt: 'none', state })
  const browser = new WebBrowser()
  const response = await browser.get(request.url)
  assert.ok(response.status >= 300 && response.status < 400, `a redirect, not a ${response.status} page`)
  const location = new URL(response.headers.get('location')!, provider.issuer)
  const error = assertAuthorizationError(provider, channel, location, state, [
    'login_required',
    'interaction_required',
    'account_selection_required',
    'consent_required',
  ])
  assert.equal(error, 'login_required')
  assert.equal(location.searchParams.get('state')!.length, 128)
})

test('oidcc-prompt-none-logged-in: a second request with prompt=none completes silently with the same sub and auth_time', async (t) => {
  const { provider, channel, user } = await setup(t)
  const first = await codeFlow(provider, channel, { user })
  const second = await codeFlow(provider, channel, { browser: first.browser, params: { prompt: 'none' } })
  assertSilent(second)
  assert.equal(second.claims.sub, first.claims.sub)
  assert.equal(second.claims.auth_time, first.claims.auth_time)
})

test('oidcc-max-age-1: after 2 s a request with max_age=1 logs in again; the new auth_time is later and recent', async (t) => {
  const { provider, channel, user } = await setup(t)
  const first = await codeFlow(provider, channel, { user })
  await sleep(2000)
  const second = await codeFlow(provider, channel, { user, browser: first.browser, params: { max_age: '1' } })
  assert.deepEqual(second.pages, ['login'], 'the login page is shown again')
  assert.equal(typeof second.claims.auth_time, 'number', 'the ID token must contain auth_time when max_age was sent')
  assert.ok(
    (second.claims.auth_time as number) > (first.claims.auth_time as number),
    `auth_time ${String(second.claims.auth_time)} is later than ${String(first.claims.auth_time)}`,
  )
  assert.ok((second.claims.auth_time as number) >= now() - 10, 'auth_time is recent')
  assert.equal(second.claims.sub, first.claims.sub)
})

test('oidcc-max-age-10000: max_age=15000 then max_age=10000: no login the second time, identical auth_time and sub', async (t) => {
  const { provider, channel, user } = await setup(t)
  const first = await codeFlow(provider, channel, { user, params: { max_age: '15000' } })
  // A second later, so that an auth_time of "now" on the silent request would show.
  await sleep(1100)
  const second = await codeFlow(provider, channel, { browser: first.browser, params: { max_age: '10000' } })
  assertSilent(second)
  assert.equal(typeof first.claims.auth_time, 'number')
  assert.equal(typeof second.claims.auth_time, 'number')
  assert.equal(second.claims.auth_time, first.claims.auth_time)
  assert.equal(second.claims.sub, first.claims.sub)
})

test('oidcc-ensure-request-with-unknown-parameter-succeeds: extra=foobar is ignored', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { extra: 'foobar' } })
  assert.equal(flow.callback.searchParams.get('extra'), null)
})

test('oidcc-id-token-hint: prompt=none with the first ID token as id_token_hint completes silently, same sub and auth_time', async (t) => {
  const { provider, channel, user } = await setup(t)
  const first = await codeFlow(provider, channel, { user })
  const second = await codeFlow(provider, channel, { browser: first.browser, params: { prompt: 'none', id_token_hint: first.idToken } })
  assertSilent(second)
  assert.equal(second.claims.sub, first.claims.sub)
  assert.equal(second.claims.auth_time, first.claims.auth_time)
})

test('oidcc-login-hint: login_hint is accepted (and fills in the email field)', async (t) => {
  const { provider, channel, user } = await setup(t)
  const browser = new WebBrowser()
  const request = authorizationRequest(provider, channel, { login_hint: user.email })
  const step = await browser.follow(request.url, provider.issuer)
  assert.ok('page' in step && step.page.status === 200, 'the login page is shown')
  assert.match(browser.lastPage, new RegExp(`name="email" type="email" value="${user.email.replace(/[.+]/g, '\\$&')}"`))
  const flow = await codeFlow(provider, channel, { user, browser, params: { login_hint: user.email } })
  assert.ok(flow.pages.includes('login'))
})

test('oidcc-ui-locales: ui_locales=se is accepted without error', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { ui_locales: 'se' } })
  assert.ok(flow.pages.includes('login'))
})

test('oidcc-claims-locales: claims_locales=se is accepted without error', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { claims_locales: 'se' } })
  assert.ok(flow.pages.includes('login'))
})

test('oidcc-ensure-request-with-acr-values-succeeds: acr_values (advertised, else "1 2") succeeds', async (t) => {
  const { provider, channel, user } = await setup(t)
  const advertised = provider.discovery.acr_values_supported as string[] | undefined
  const acrValues = advertised?.length ? advertised : ['1', '2']
  const flow = await codeFlow(provider, channel, { user, params: { acr_values: acrValues.join(' ') } })
  assert.ok(flow.pages.includes('login'))
  if (flow.claims.acr !== undefined && !acrValues.includes(flow.claims.acr as string))
    t.diagnostic(`WARNING: acr ${String(flow.claims.acr)} is not one of ${acrValues.join(' ')}`)
})

test('oidcc-codereuse: a second exchange of the same code answers 400 JSON invalid_grant', async (t) => {
  const { provider, channel, user } = await setup(t)
  const { code } = await authorize(provider, channel, { user })
  await exchangeCode(provider, channel, code)
  const again = await tokenRequest(provider, channel, { grant_type: 'authorization_code', code, redirect_uri: channel.redirectUri })
  assertTokenError(again.response, again.body, 'invalid_grant')
})

test('oidcc-codereuse-30seconds: reuse after the tokens were issued is invalid_grant and revokes the first access token', async (t) => {
  const { provider, channel, user } = await setup(t)
  const { code, request } = await authorize(provider, channel, { user })
  const tokens = await exchangeCode(provider, channel, code)
  const claims = await assertIdToken(provider, channel, tokens.id_token as string, {
    nonce: request.params.nonce,
    accessToken: tokens.access_token as string,
  })
  await assertUserInfo(provider, tokens.access_token as string, claims.sub!)
  const again = await tokenRequest(provider, channel, { grant_type: 'authorization_code', code, redirect_uri: channel.redirectUri })
  assertTokenError(again.response, again.body, 'invalid_grant')
  const after = await userInfo(provider, tokens.access_token as string)
  assert.equal(
    after.response.status,
    401,
    `the first access token still works at UserInfo: ${after.response.status} ${JSON.stringify(after.body)}`,
  )
})

test('oidcc-ensure-registered-redirect-uri: registered URI + "/<10 random chars>" gets an error page, no redirect', async (t) => {
  const { provider, channel } = await setup(t)
  const suffix = randomBytes(10).toString('hex').slice(0, 10)
  const request = authorizationRequest(provider, channel, { redirect_uri: `${channel.redirectUri}/${suffix}` })
  const browser = new WebBrowser()
  const response = await browser.get(request.url)
  assert.equal(response.headers.get('location'), null, `the OP redirected to ${response.headers.get('location')}`)
  assert.ok(response.status >= 400 && response.status < 500, `an error page, not ${response.status}`)
  assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(browser.lastPage, /redirect_uri/)
  assert.ok(!browser.lastPage.includes(suffix), 'the page offers no link to the unregistered URI')
})

test('oidcc-ensure-post-request-succeeds: an authorization request sent as a form POST completes', async (t) => {
  const { provider, channel, user } = await setup(t)
  const request = authorizationRequest(provider, channel)
  const browser = new WebBrowser()
  const started = Date.now()
  const response = await browser.request(provider.discovery.authorization_endpoint as string, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(request.params).toString(),
  })
  const { callback, pages } = await walk(browser, provider, response, user)
  assert.ok(pages.includes('login'))
  const code = assertAuthorizationSuccess(provider, channel, callback, request)
  const tokens = await exchangeCode(provider, channel, code)
  const claims = await assertIdToken(provider, channel, tokens.id_token as string, {
    nonce: request.params.nonce,
    accessToken: tokens.access_token as string,
  })
  await assertUserInfo(provider, tokens.access_token as string, claims.sub!)
  assert.ok(Date.now() - started < 30_000)
})

test('oidcc-server-client-secret-post: the code flow with client_secret_post, which discovery lists', async (t) => {
  const { provider, channel, user } = await setup(t)
  assert.ok((provider.discovery.token_endpoint_auth_methods_supported as string[]).includes('client_secret_post'))
  const flow = await codeFlow(provider, channel, { user, auth: 'post' })
  assert.equal(flow.claims.aud, channel.channelId)
})

test('oidcc-request-uri-unsigned-supported-correctly-or-rejected-as-unsupported: unsigned request_uri', {
  skip: 'dynamic-client only (the suite hosts the request object for a registered client)',
}, () => {})

/** An unsigned request object (alg none) carrying the given claims. */
function unsignedRequestObject(claims: Json): string {
  const part = (value: Json) => Buffer.from(JSON.stringify(value)).toString('base64url')
  return `${part({ alg: 'none', typ: 'oauth-authz-req+jwt' })}.${part(claims)}.`
}

/** The module's skip rule: request_object_signing_alg_values_supported present and without none. */
function requestObjectModuleRuns(provider: Provider): boolean {
  const algs = provider.discovery.request_object_signing_alg_values_supported
  return !Array.isArray(algs) || algs.includes('none')
}

test('oidcc-unsigned-request-object-supported-correctly-or-rejected-as-unsupported: processed (state, nonce from the object) or request_not_supported', async (t) => {
  const { provider, channel, user } = await setup(t)
  assert.ok(requestObjectModuleRuns(provider), 'discovery does not make the suite skip this module')
  const state = randomValue()
  const nonce = randomValue()
  const object = unsignedRequestObject({
    iss: channel.channelId,
    aud: provider.issuer,
    client_id: channel.channelId,
    response_type: 'code',
    redirect_uri: channel.redirectUri,
    scope: 'openid',
    state,
    nonce,
  })
  // state and nonce are only inside the object.
  const request = authorizationRequest(provider, channel, { state: undefined, nonce: undefined, request: object })
  const browser = new WebBrowser()
  const { callback } = await walk(browser, provider, request.url, user)
  if (callback.searchParams.get('code') !== null) {
    // Processed: the object's state comes back and its nonce is in the ID token.
    const code = assertAuthorizationSuccess(provider, channel, callback, { ...request, params: { ...request.params, state } })
    const tokens = await exchangeCode(provider, channel, code)
    await assertIdToken(provider, channel, tokens.id_token as string, { nonce, accessToken: tokens.access_token as string })
  } else {
    const error = assertAuthorizationError(provider, channel, callback, undefined, ['request_not_supported'])
    assert.equal(error, 'request_not_supported')
  }
})

test('oidcc-claims-essential: claims={"userinfo":{"name":{"essential":true}}} succeeds; name stays out of the ID token', async (t) => {
  const { provider, channel, user } = await setup(t)
  const flow = await codeFlow(provider, channel, { user, params: { claims: JSON.stringify({ userinfo: { name: { essential: true } } }) } })
  assert.equal(flow.claims.name, undefined, 'name is not in the ID token')
  warnMissing(t, flow.userinfo, ['name'], 'UserInfo for claims={"userinfo":{"name":{"essential":true}}}')
})

test('oidcc-ensure-request-object-with-redirect-uri: valid redirect_uri in the object, invalid one in the query: error page (or the object value)', async (t) => {
  const { provider, channel, user } = await setup(t)
  assert.ok(requestObjectModuleRuns(provider), 'discovery does not make the suite skip this module')
  const state = randomValue()
  const invalid = 'https://rp.example.com/not-registered'
  const object = unsignedRequestObject({
    iss: channel.channelId,
    aud: provider.issuer,
    client_id: channel.channelId,
    response_type: 'code',
    redirect_uri: channel.redirectUri,
    scope: 'openid',
    state,
    nonce: randomValue(),
  })
  const request = authorizationRequest(provider, channel, { redirect_uri: invalid, state: undefined, nonce: undefined, request: object })
  const browser = new WebBrowser()
  const response = await browser.get(request.url)
  const location = response.headers.get('location')
  assert.ok(location === null || !location.startsWith(invalid), `the OP redirected to the unregistered ${location}`)
  if (location !== null && !new URL(location, provider.issuer).href.startsWith(provider.issuer)) {
    // The object's redirect_uri was used.
    const callback = new URL(location)
    if (callback.searchParams.get('code') !== null)
      assertAuthorizationSuccess(provider, channel, callback, { ...request, params: { ...request.params, state } })
    else assertAuthorizationError(provider, channel, callback, undefined, ['request_not_supported'])
  } else if (location !== null) {
    // Processed into a login: it must end at the object's redirect_uri.
    const { callback } = await walk(browser, provider, new URL(location, provider.issuer).href, user)
    assertAuthorizationSuccess(provider, channel, callback, { ...request, params: { ...request.params, state } })
  } else {
    assert.ok(response.status >= 400 && response.status < 500, `a redirect-URI error page, not ${response.status}`)
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/)
    assert.match(browser.lastPage, /redirect_uri/)
  }
})

test("oidcc-refresh-token: refresh answers 200 no-store Bearer; client2's refresh token used by client1 is invalid_grant", async (t) => {
  const { provider, channel, user } = await setup(t)
  const scopes = provider.discovery.scopes_supported as string[]
  const scope = scopes.includes('offline_access') ? 'openid offline_access' : 'openid'
  const first = await codeFlow(provider, channel, { user, params: { scope, prompt: 'consent' } })
  assert.ok(first.pages.includes('consent'), 'prompt=consent shows the consent page')
  const refreshToken = first.tokens.refresh_token
  assert.ok(typeof refreshToken === 'string' && refreshToken !== '', 'plusid issues a refresh token')

  const refreshed = await tokenRequest(provider, channel, { grant_type: 'refresh_token', refresh_token: refreshToken, scope })
  assertTokenResponse(refreshed.response, refreshed.body, { idToken: false })
  assert.notEqual(refreshed.body.access_token, first.tokens.access_token)
  if (typeof refreshed.body.id_token === 'string') {
    const claims = await assertIdToken(provider, channel, refreshed.body.id_token, {
      nonce: undefined,
      accessToken: refreshed.body.access_token as string,
    })
    for (const name of ['iss', 'sub', 'aud', 'azp', 'auth_time'])
      assert.deepEqual(claims[name], first.claims[name], `the refreshed ID token keeps ${name}`)
    assert.ok(claims.iat! >= first.claims.iat!)
  }
  await assertUserInfo(provider, refreshed.body.access_token as string, first.claims.sub!)

  const channel2 = await newChannel()
  const second = await codeFlow(provider, channel2, { browser: first.browser, user, params: { scope, prompt: 'consent' } })
  assert.equal(typeof second.tokens.refresh_token, 'string')
  const crossed = await tokenRequest(provider, channel, {
    grant_type: 'refresh_token',
    refresh_token: second.tokens.refresh_token as string,
    scope,
  })
  assertTokenError(crossed.response, crossed.body, 'invalid_grant')
  assert.match(crossed.response.headers.get('cache-control') ?? '', /no-store/)
})

test('oidcc-ensure-request-with-valid-pkce-succeeds: an S256 challenge and its verifier succeed', async (t) => {
  const { provider, channel, user } = await setup(t)
  assert.ok((provider.discovery.code_challenge_methods_supported as string[]).includes('S256'))
  const verifier = randomValue(32)
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  const flow = await codeFlow(provider, channel, {
    user,
    params: { code_challenge: challenge, code_challenge_method: 'S256' },
    codeVerifier: verifier,
  })
  assert.equal(flow.request.params.code_challenge, challenge)
})

// =============================================================================================
// Config OP plan (§2.4)

test('oidcc-discovery-endpoint-verification: the discovery document', async (t) => {
  const { issuer } = await startServer(t)
  const { response, discovery: d } = await fetchDiscovery(issuer)
  t.diagnostic('not checked here: HTTPS for the discovery URL, jwks_uri and endpoints (the test server is plain http on 127.0.0.1)')
  assert.ok(response.url.endsWith(DISCOVERY_SUFFIX))
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  assert.equal(d.issuer, issuer, 'issuer equals the discovery URL without its suffix')
  assert.doesNotThrow(() => new URL(d.issuer as string), 'issuer is a valid URL')

  const array = (name: string) => {
    assert.ok(Array.isArray(d[name]), `${name} is an array`)
    return d[name] as string[]
  }
  assert.ok(array('response_types_supported').includes('code'))
  assert.ok(array('subject_types_supported').includes('pairwise'))
  assert.ok(array('id_token_signing_alg_values_supported').includes('RS256'), 'RS256 is advertised')
  assert.ok(array('code_challenge_methods_supported').includes('S256'))
  const scopes = array('scopes_supported')
  assert.ok(scopes.includes('openid'))
  for (const scope of scopes) assert.match(scope, /^[\x21\x23-\x5B\x5D-\x7E]+$/, `scope token ${scope}`)
  const authMethods = array('token_endpoint_auth_methods_supported')
  assert.ok(authMethods.includes('client_secret_basic') && authMethods.includes('client_secret_post'))
  assert.equal(d.request_parameter_supported, false)
  assert.equal(d.authorization_response_iss_parameter_supported, true)
  for (const name of ['userinfo_signing_alg_values_supported', 'claims_supported']) if (d[name] !== undefined) array(name)
  if (d.grant_types_supported !== undefined) assert.ok(array('grant_types_supported').includes('authorization_code'))
  for (const name of ['ui_locales_supported', 'claims_locales_supported']) {
    if (d[name] === undefined) continue
    for (const tag of array(name)) assert.deepEqual(Intl.getCanonicalLocales(tag), [tag], `${name}: ${tag} is a BCP 47 tag`)
  }

  for (const name of ['authorization_endpoint', 'token_endpoint', 'userinfo_endpoint'])
    assert.equal(typeof d[name], 'string', `${name} present`)
  const endpoints = Object.keys(d).filter((name) => name.endsWith('_endpoint'))
  assert.ok(endpoints.length >= 3)
  for (const name of [...endpoints, 'jwks_uri']) {
    const value = d[name] as string
    assert.doesNotThrow(() => new URL(value), `${name} is a valid URL`)
    assert.ok(value.startsWith(`${issuer}/`), `${name} ${value} is on the issuer`)
  }
  await fetchJwks(d)
})

// =============================================================================================
// Dynamic plan, cheap enough to run here (§2.5)

test('oidcc-server-rotate-keys: after a rotation the JWKS has a new key and still the old one; new ID tokens verify', async (t) => {
  const { provider, channel, user } = await setup(t)
  const before = await codeFlow(provider, channel, { user })
  const oldKid = decodeProtectedHeader(before.idToken).kid!
  const oldKids = (await fetchJwks(provider.discovery)).keys.map((key) => key.kid!)
  assert.ok(oldKids.includes(oldKid))

  await rotateSigningKeys(database.db, TEST_MASTER_KEY, 3600)
  await provider.app.oauth.keys.refresh()

  const newKids = (await fetchJwks(provider.discovery)).keys.map((key) => key.kid!)
  const added = newKids.filter((kid) => !oldKids.includes(kid))
  assert.ok(added.length > 0, 'the JWKS has a new key')
  assert.ok(newKids.includes(oldKid), 'the JWKS still has the key that signed the earlier ID token')
  // The earlier ID token still verifies against the JWKS published now.
  await assertIdToken(provider, channel, before.idToken, {
    nonce: before.request.params.nonce,
    accessToken: before.tokens.access_token as string,
  })

  const after = await codeFlow(provider, channel, { browser: before.browser, params: { prompt: 'none' } })
  const newKid = decodeProtectedHeader(after.idToken).kid!
  assert.notEqual(newKid, oldKid, 'ID tokens are signed with the new current key')
  assert.ok(newKids.includes(newKid))
})

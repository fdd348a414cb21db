// Property-based hostile input: OWASP ASVS 5 V1/V2 (encoding, sanitisation and validation of all
// input), V16 (error handling: no stack traces, no database errors, no internals in responses),
// RFC 6749 §3.1 (repeated parameters). fast-check generates hostile values — huge strings,
// control characters, bidi overrides, lone surrogates, NUL and %00, overlong UTF-8 percent
// encodings, SQL and template metacharacters ({{ }}, <% %>, ${ }), <script>, repeated keys
// (arrays in place of strings), prototype keys, and for the JSON APIs nested objects, arrays,
// numbers and nulls — and throws them at every form (logged in where needed, with a valid CSRF
// token so they reach the validators) and every endpoint. Each answer must be below 500 and free
// of stack traces and database error text, and a refused form must have saved nothing.
//
// Runs are bounded (NUM_RUNS per property, 30 by default; FC_RUNS=n for more) and reproducible: a failure prints
// fast-check's seed and path; `FC_SEED=<seed> npm test -- test/security/hostile-input` replays it.
import assert from 'node:assert/strict'
import { after, test } from 'node:test'
import fc from 'fast-check'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { buildOptions, testConfig } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { CALLBACK, createTestChannel, createTestUser, type TestChannel } from '../helpers/oidc.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const database = await testDatabase()
const db = database.db
// One app for the whole file, closed when the file ends.
const app = await buildApp(testConfig(), await buildOptions())
after(() => app.close())
const NUM_RUNS = Number(process.env.FC_RUNS ?? 30)
const SEED = process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined

// ---------------------------------------------------------------- hostile values

const NASTY = [
  '\u0000',
  'a\u0000b',
  '%00',
  '\u202Egnp.exe',
  '\u2066x\u2069',
  '\u200B',
  '\uFEFF',
  '\uD800',
  '\uDFFF',
  'x\uDBFF',
  '\r\nSet-Cookie: injected=1',
  '\t',
  '\u0085',
  '\u2028',
  '\u001b[31m',
  "' OR '1'='1",
  '"; DROP TABLE users; --',
  "'); SELECT pg_sleep(5); --",
  '\\',
  "\\'",
  '$1',
  '$$',
  "E'\\x00'",
  '{{7*7}}',
  '{{constructor.constructor("return process")()}}',
  '<%= 7*7 %>',
  '<%~ it %>',
  '<% throw 1 %>',
  '${7*7}',
  '#{7*7}',
  '<script>alert(1)</script>',
  '"><img src=x onerror=alert(1)>',
  'javascript:alert(1)',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  '../../../etc/passwd',
  '..%2F..%2F',
  '%2e%2e%2f',
  'NaN',
  'Infinity',
  '-1',
  '1e400',
  '9'.repeat(40),
  '0x10',
  'null',
  'undefined',
  'true',
  '[]',
  '{}',
  'ｓｃｒｉｐｔ',
  'Ａ',
  '\u0130',
  'ß',
  'ﬁ',
  'e\u0301',
  '\u{1F600}',
  '\u{E0041}',
  '山田',
  'ヤマダ',
  '2026-02-30',
  '1899-12-31',
  '+81 90 1234 5678',
  '090-1234-5678',
  '102-8282',
  'JP',
  'https://evil.example/',
  'http://127.0.0.1:1/',
]

/** Raw pieces put into the form encoding as they are: bad and overlong percent encodings. */
const RAW_ENCODINGS = [
  '%00',
  '%C0%AE',
  '%C0%80',
  '%E0%80%AF',
  '%ED%A0%80',
  '%F4%90%80%80',
  '%FF',
  '%',
  '%Z',
  '%u0041',
  '%2',
  '+',
  '&',
  '=',
  '&=&',
  ';',
]

const anyUnit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n))
const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...NASTY) },
  { weight: 2, arbitrary: fc.array(fc.constantFrom(...NASTY), { minLength: 2, maxLength: 5 }).map((parts) => parts.join('')) },
  { weight: 2, arbitrary: fc.string({ unit: anyUnit, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.constantFrom('a', 'あ', '<', '%00', '\u202E'), fc.integer({ min: 100, max: 12_000 }))
      .map(([unit, n]) => unit.repeat(n)),
  },
)

/** A form value: text, or the same key repeated (an array where a string is expected). */
const formValue = fc.oneof(
  { weight: 4, arbitrary: hostileString },
  { weight: 1, arbitrary: fc.array(hostileString, { minLength: 2, maxLength: 3 }) },
)
const rawPiece = fc.constantFrom(...RAW_ENCODINGS)

type FormFields = Record<string, string | string[]>
interface HostileForm {
  fields: FormFields
  extraKeys: [string, string][]
  raw: string[]
}

/** Some of the known fields (each hostile), hostile extra keys, and raw encodings appended. */
function hostileForm(known: readonly string[], fixed: FormFields = {}): fc.Arbitrary<HostileForm> {
  const record = Object.fromEntries(known.map((name) => [name, formValue])) as Record<string, fc.Arbitrary<string | string[]>>
  return fc.record({
    fields: fc.record(record, { requiredKeys: [] }).map((fields) => ({ ...(fields as FormFields), ...fixed })),
    extraKeys: fc.array(
      fc.tuple(fc.oneof(fc.constantFrom('__proto__', 'constructor', 'a[b]', 'items[]', '', 'csrf_token'), hostileString), hostileString),
      { maxLength: 2 },
    ),
    raw: fc.array(
      fc.tuple(fc.constantFrom(...known, 'x'), rawPiece).map(([k, v]) => `${encodeURIComponent(k)}=${v}`),
      { maxLength: 2 },
    ),
  })
}

/** encodeURIComponent, except that a lone surrogate (which it refuses) goes as its raw UTF-16 escape. */
function encode(value: string): string {
  try {
    return encodeURIComponent(value)
  } catch {
    return [...value].map((c) => (/[\uD800-\uDFFF]/.test(c) ? `%${c.charCodeAt(0).toString(16)}` : encodeURIComponent(c))).join('')
  }
}

function encodeForm(form: HostileForm, csrfToken: string | undefined): string {
  const parts: string[] = []
  if (csrfToken) parts.push(`csrf_token=${encode(csrfToken)}`)
  for (const [name, value] of Object.entries(form.fields)) for (const v of [value].flat()) parts.push(`${encode(name)}=${encode(v)}`)
  for (const [name, value] of form.extraKeys) if (name !== 'csrf_token') parts.push(`${encode(name)}=${encode(value)}`)
  return [...parts, ...form.raw].join('&')
}

/** JSON values for the JSON APIs: strings, numbers, nulls, arrays and nested objects. */
const jsonHostile: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.constantFrom(null, true, false, 0, -1, 1e308, Number.MAX_SAFE_INTEGER + 2),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'userAccessToken', 'reason')), tie('value'), {
      maxKeys: 3,
    }),
  ),
})).value

/** A path segment made of a hostile string (Fastify decodes it back into the parameter). */
const pathSegment = fc.oneof(
  hostileString.filter((s) => s.length < 2000).map(encode),
  fc.constantFrom('%00', '%C0%AE', '%ED%A0%80', '..', '%2F', '%FF', '00000000-0000-0000-0000-000000000000', '1234567890'),
)

// ---------------------------------------------------------------- what every answer must satisfy

const LEAKS = [
  /^\s+at .+:\d+:\d+\)?$/m, // a stack frame
  /node_modules/,
  /\/src\/[\w/-]+\.ts/,
  /relation "/,
  /syntax error at/,
  /invalid input syntax/,
  /invalid byte sequence/,
  /violates [\w ]*constraint/,
  /duplicate key value/,
  /column "[^"]*" (does not exist|of relation)/,
  /unterminated quoted/,
  /(TypeError|ReferenceError|RangeError): /,
]

function assertSafe(response: LightMyRequestResponse, what: string) {
  assert.ok(response.statusCode < 500, `${what} answered ${response.statusCode}: ${response.body.slice(0, 500)}`)
  for (const leak of LEAKS) assert.doesNotMatch(response.body, leak, `${what} leaks internals (${leak})`)
}

/** Everything a form could write, besides counters and the audit log. */
async function snapshot(): Promise<string> {
  const tables = [
    'users',
    'profiles',
    'providers',
    'provider_members',
    'channels',
    'channel_testers',
    'channel_permissions',
    'grants',
    'permission_applications',
    'access_tokens',
    'refresh_tokens',
    'channel_access_tokens',
  ] as const
  const rows: Record<string, unknown> = {}
  for (const table of tables) rows[table] = await db.selectFrom(table).selectAll().execute()
  rows.sessions = (await db.selectFrom('sessions').select('id').orderBy('id').execute()).map((s) => s.id)
  return JSON.stringify(rows, (_key, value: unknown) => (Buffer.isBuffer(value) ? value.toString('hex') : value))
}

/** Runs the property: every answer safe; a refused request (4xx) changed nothing. */
async function property<T>(name: string, arbitrary: fc.Arbitrary<T>, send: (value: T) => Promise<LightMyRequestResponse>) {
  await fc.assert(
    fc.asyncProperty(arbitrary, async (value) => {
      const before = await snapshot()
      const response = await send(value)
      assertSafe(response, name)
      if (response.statusCode >= 400)
        assert.equal(await snapshot(), before, `${name}: a refused request (${response.statusCode}) changed the database`)
    }),
    { numRuns: NUM_RUNS, includeErrorInReport: true, ...(SEED !== undefined ? { seed: SEED } : {}) },
  )
}

// ---------------------------------------------------------------- the cast

interface Session {
  cookie: string
  csrf: string
}

async function sessionOf(browser: Browser, page: string): Promise<Session> {
  await browser.get(page)
  return { cookie: browser.cookieHeader(), csrf: browser.csrfToken() }
}

function postForm(app: FastifyInstance, url: string, session: Session | null, form: HostileForm): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(session ? { cookie: session.cookie } : {}) },
    payload: encodeForm(form, session?.csrf),
  })
}

function query(form: HostileForm): string {
  return encodeForm(form, undefined)
}

interface Cast {
  app: FastifyInstance
  anonymous: Session
  user: Session
  developer: Session
  admin: Session
  adminToken: string
  providerId: string
  devChannelId: string
  consentChannel: TestChannel
  consentBrowser: Browser
  applicationId: string
}

let castPromise: Promise<Cast> | undefined
/** The people of the whole file, made once. */
function cast(): Promise<Cast> {
  castPromise ??= (async () => {
    const anonymousBrowser = new Browser(app)
    const anonymous = await sessionOf(anonymousBrowser, '/register')
    const userBrowser = new Browser(app)
    await registerUser(userBrowser)
    const user = await sessionOf(userBrowser, '/account/profile')
    const developerBrowser = new Browser(app)
    await registerUser(developerBrowser)
    await developerBrowser.get('/console')
    const provider = await developerBrowser.post('/console/providers', { name: `Hostile ${process.pid}` })
    const providerId = String(provider.headers.location).split('/').pop()!
    await developerBrowser.get(`/console/providers/${providerId}`)
    const created = await developerBrowser.post(`/console/providers/${providerId}/channels`, {
      name: 'Dev channel',
      callback_urls: CALLBACK,
      kind: 'web',
      id_token_alg: 'ES256',
    })
    const devChannelId = /\/console\/channels\/(\d{10})/.exec(String(created.headers.location))![1]!
    await developerBrowser.get(`/console/channels/${devChannelId}`)
    const applied = await developerBrowser.post(`/console/channels/${devChannelId}/applications`, {
      items: 'phone',
      purpose: 'to call customers about deliveries',
      policy_url: 'https://dev.example/privacy',
    })
    assert.equal(applied.statusCode, 303, applied.body)
    const developer = await sessionOf(developerBrowser, `/console/channels/${devChannelId}`)
    const adminBrowser = new Browser(app)
    const adminAccount = await registerUser(adminBrowser)
    await db.updateTable('users').set({ is_admin: true }).where('email_hmac', '=', keyring().emailHmac(adminAccount.email)).execute()
    const admin = await sessionOf(adminBrowser, '/admin')
    const applicationId = /\/admin\/applications\/([0-9a-f-]{36})\/reject/.exec(adminBrowser.lastPage)![1]!
    const adminRow = await db
      .selectFrom('users')
      .select('id')
      .where('email_hmac', '=', keyring().emailHmac(adminAccount.email))
      .executeTakeFirstOrThrow()
    const { token: adminToken } = await createAdminToken(db, adminRow.id)
    // A user without Profile+ data consents to a channel asking for everything: the fill-in fields are validated.
    const consentChannel = await createTestChannel({ items: ['email', 'real_name', 'gender', 'birthdate', 'phone', 'address'] })
    const consentUser = await createTestUser({ profile: null })
    const consentBrowser = new Browser(app)
    await consentBrowser.get('/login')
    await consentBrowser.post('/login', { email: consentUser.email, password: consentUser.password })
    return { app, anonymous, user, developer, admin, adminToken, providerId, devChannelId, consentChannel, consentBrowser, applicationId }
  })()
  return castPromise!
}

const PROFILE_FIELDS = [
  'name',
  'family_name',
  'given_name',
  'middle_name',
  'family_name_pronunciation',
  'given_name_pronunciation',
  'gender',
  'birthdate',
  'phone_number',
  'address.postal_code',
  'address.region',
  'address.locality',
  'address.street_address',
  'address.country',
]
const AUTHORIZE_FIELDS = [
  'response_type',
  'client_id',
  'redirect_uri',
  'scope',
  'state',
  'nonce',
  'prompt',
  'max_age',
  'code_challenge',
  'code_challenge_method',
  'login_hint',
  'id_token_hint',
  'ui_locales',
  'response_mode',
  'request',
  'request_uri',
]

// ---------------------------------------------------------------- forms

test('account forms: register, login, logout, Profile+ editor, password change, delete, sessions, unlink', async () => {
  const { app, anonymous, user } = await cast()
  await property('POST /register', hostileForm(['email', 'password', 'name', 'next']), (form) =>
    postForm(app, '/register', anonymous, form),
  )
  await property('POST /login', hostileForm(['email', 'password', 'next']), (form) => postForm(app, '/login', anonymous, form))
  await property('POST /account/profile', hostileForm(PROFILE_FIELDS), (form) => postForm(app, '/account/profile', user, form))
  await property('POST /account/delete', hostileForm(['password']), (form) => postForm(app, '/account/delete', user, form))
  await property('POST /account/password', hostileForm(['current_password', 'new_password', 'new_password_again']), (form) =>
    postForm(app, '/account/password', user, form),
  )
  await property('POST /account/sessions/:id/end', fc.tuple(pathSegment, hostileForm([])), ([id, form]) =>
    postForm(app, `/account/sessions/${id}/end`, user, form),
  )
  await property('POST /account/apps/:id/unlink', fc.tuple(pathSegment, hostileForm([])), ([id, form]) =>
    postForm(app, `/account/apps/${id}/unlink`, user, form),
  )
  await property(
    'GET account pages with hostile queries',
    fc.tuple(
      fc.constantFrom('/account', '/account/history', '/account/apps', '/account/sessions', '/account/password', '/login', '/register'),
      hostileForm(['next', 'before', 'saved']),
    ),
    ([page, form]) => app.inject({ method: 'GET', url: `${page}?${query(form)}`, headers: { cookie: user.cookie } }),
  )
  await property('POST /logout', hostileForm([]), (form) => postForm(app, '/logout', anonymous, form))
})

test('authorization: authorize GET and POST, interaction login and consent (with fill-ins), end-session', async () => {
  const { app, anonymous, consentChannel, consentBrowser } = await cast()
  const valid = {
    response_type: 'code',
    client_id: consentChannel.channelId,
    redirect_uri: consentChannel.redirectUri,
    scope: 'openid profile',
    state: 's',
  }
  const authorizeForm = fc.oneof(
    hostileForm(AUTHORIZE_FIELDS),
    hostileForm(AUTHORIZE_FIELDS.filter((f) => !(f in valid))).map((form) => ({ ...form, fields: { ...valid, ...form.fields } })),
  )
  await property('GET /oauth2/v2.1/authorize', authorizeForm, (form) =>
    app.inject({ method: 'GET', url: `/oauth2/v2.1/authorize?${query(form)}`, headers: { cookie: consentBrowser.cookieHeader() } }),
  )
  await property('POST /oauth2/v2.1/authorize', authorizeForm, (form) =>
    app.inject({
      method: 'POST',
      url: '/oauth2/v2.1/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: consentBrowser.cookieHeader() },
      payload: query(form),
    }),
  )

  // A fresh interaction per run, so every run reaches the consent form's validators.
  const interaction = async (prompt: string) => {
    const start = await consentBrowser.get(
      `/oauth2/v2.1/authorize?${new URLSearchParams({ ...valid, scope: 'openid profile email real_name gender birthdate phone address', prompt })}`,
    )
    assert.equal(start.statusCode, 303, start.body)
    await consentBrowser.get(String(start.headers.location))
    return { action: String(start.headers.location), session: { cookie: consentBrowser.cookieHeader(), csrf: consentBrowser.csrfToken() } }
  }
  const consentForm = hostileForm(['items', 'decision', ...PROFILE_FIELDS.filter((f) => f !== 'name')]).map((form) => ({
    ...form,
    fields: { decision: 'allow', items: ['real_name', 'gender', 'birthdate', 'phone', 'address'], ...form.fields },
  }))
  await property('POST /interaction/:id/consent', consentForm, async (form) => {
    const { action, session } = await interaction('consent')
    return postForm(app, `${action}/consent`, session, form)
  })
  await property('POST /interaction/:id/login', hostileForm(['email', 'password', 'decision']), async (form) => {
    const { action, session } = await interaction('login')
    // The hostile login must not log the consent user out: keep the session cookie as it was.
    const cookies = new Map(consentBrowser.cookies)
    const response = await postForm(app, `${action}/login`, session, form)
    consentBrowser.cookies.clear()
    for (const [k, v] of cookies) consentBrowser.cookies.set(k, v)
    return response
  })
  await property(
    'POST /interaction/:id/* unknown ids',
    fc.tuple(pathSegment, fc.constantFrom('login', 'consent'), hostileForm(['email', 'password', 'decision'])),
    ([id, step, form]) => postForm(app, `/interaction/${id}/${step}`, anonymous, form),
  )
  await property('GET /interaction/:id', pathSegment, (id) => app.inject({ method: 'GET', url: `/interaction/${id}` }))
  const logoutFields = ['id_token_hint', 'post_logout_redirect_uri', 'state', 'client_id', 'logout', 'stay']
  await property('GET /oauth2/v2.1/logout', hostileForm(logoutFields), (form) =>
    app.inject({ method: 'GET', url: `/oauth2/v2.1/logout?${query(form)}` }),
  )
  await property('POST /oauth2/v2.1/logout', hostileForm(logoutFields), (form) => postForm(app, '/oauth2/v2.1/logout', anonymous, form))
})

test('console and administration forms', async () => {
  const { app, developer, admin, providerId, devChannelId, applicationId } = await cast()
  const channelFields = [
    'name',
    'description',
    'icon_url',
    'privacy_policy_url',
    'kind',
    'callback_urls',
    'logout_urls',
    'id_token_alg',
    'error_style',
  ]
  await property('POST /console/providers', hostileForm(['name']), (form) => postForm(app, '/console/providers', developer, form))
  await property('POST /console/providers/:id/channels', hostileForm(channelFields), (form) =>
    postForm(app, `/console/providers/${providerId}/channels`, developer, form),
  )
  await property('POST /console/providers/:id/members', hostileForm(['email', 'role']), (form) =>
    postForm(app, `/console/providers/${providerId}/members`, developer, form),
  )
  await property('POST /console/channels/:id', hostileForm(channelFields), (form) =>
    postForm(app, `/console/channels/${devChannelId}`, developer, form),
  )
  await property('POST /console/channels/:id/testers', hostileForm(['email']), (form) =>
    postForm(app, `/console/channels/${devChannelId}/testers`, developer, form),
  )
  await property('POST /console/channels/:id/applications', hostileForm(['items', 'purpose', 'policy_url']), (form) =>
    postForm(app, `/console/channels/${devChannelId}/applications`, developer, form),
  )
  await property(
    'console with hostile ids',
    fc.tuple(pathSegment, fc.constantFrom('', '/secret', '/publish', '/testers', '/applications'), hostileForm(['name', 'id_token_alg'])),
    ([id, action, form]) => postForm(app, `/console/channels/${id}${action}`, developer, form),
  )
  await property('GET secret pages with hostile ids', fc.tuple(pathSegment, fc.oneof(pathSegment, fc.uuid())), ([id, reveal]) =>
    app.inject({ method: 'GET', url: `/console/channels/${id}/secret/${reveal}`, headers: { cookie: developer.cookie } }),
  )
  await property(
    'GET console pages with hostile ids',
    fc.tuple(fc.constantFrom('/console/channels/', '/console/providers/'), pathSegment),
    ([page, id]) => app.inject({ method: 'GET', url: `${page}${id}`, headers: { cookie: developer.cookie } }),
  )

  await property(
    'POST /admin/applications/:id/reject',
    fc.tuple(fc.oneof(pathSegment, fc.constant(applicationId)), hostileForm(['reason'])),
    ([id, form]) => postForm(app, `/admin/applications/${id}/reject`, admin, form),
  )
  await property('POST /admin/applications/:id/approve', pathSegment, (id) =>
    postForm(app, `/admin/applications/${id}/approve`, admin, { fields: {}, extraKeys: [], raw: [] }),
  )
  await property('POST /admin/channels/:id/suspend', fc.tuple(pathSegment, hostileForm(['reason'])), ([id, form]) =>
    postForm(app, `/admin/channels/${id}/suspend`, admin, form),
  )
  await property(
    'POST /admin/channels/:id/permissions/:item/suspend',
    fc.tuple(fc.oneof(pathSegment, fc.constant(devChannelId)), pathSegment, hostileForm(['reason'])),
    ([id, item, form]) => postForm(app, `/admin/channels/${id}/permissions/${item}/suspend`, admin, form),
  )
  await property(
    'POST /admin/users/:id/disable and enable',
    fc.tuple(pathSegment, fc.constantFrom('disable', 'enable'), hostileForm([])),
    ([id, action, form]) => postForm(app, `/admin/users/${id}/${action}`, admin, form),
  )
  await property(
    'GET admin pages with hostile queries',
    fc.tuple(
      fc.constantFrom('/admin', '/admin/channels', '/admin/users', '/admin/audit', '/admin/audit.jsonl'),
      hostileForm(['q', 'after', 'action', 'actor', 'object', 'cursor', 'before', 'limit']),
    ),
    ([page, form]) => app.inject({ method: 'GET', url: `${page}?${query(form)}`, headers: { cookie: admin.cookie } }),
  )
  await property('GET /admin/channels/:id', pathSegment, (id) =>
    app.inject({ method: 'GET', url: `/admin/channels/${id}`, headers: { cookie: admin.cookie } }),
  )
})

// ---------------------------------------------------------------- protocol endpoints and APIs

test('protocol endpoints: token, userinfo, verify, revoke, introspect, /v2/profile, /oauth2/v3/token', async () => {
  const { app, consentChannel } = await cast()
  const credentials = fc.constantFrom<FormFields>(
    {},
    { client_id: consentChannel.channelId, client_secret: consentChannel.secret! },
    { client_id: consentChannel.channelId },
  )
  const withCredentials = (known: string[]) =>
    fc.tuple(credentials, hostileForm(known)).map(([fixed, form]) => ({ ...form, fields: { ...fixed, ...form.fields } }))
  const post = (url: string) => (form: HostileForm) =>
    app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: query(form) })
  await property(
    'POST /oauth2/v2.1/token',
    withCredentials(['grant_type', 'code', 'redirect_uri', 'code_verifier', 'refresh_token', 'scope', 'client_id', 'client_secret']),
    post('/oauth2/v2.1/token'),
  )
  await property(
    'POST /oauth2/v2.1/revoke',
    withCredentials(['token', 'token_type_hint', 'access_token', 'client_id', 'client_secret']),
    post('/oauth2/v2.1/revoke'),
  )
  await property('POST /oauth2/v2.1/introspect', withCredentials(['token', 'token_type_hint']), post('/oauth2/v2.1/introspect'))
  await property('POST /oauth2/v3/token', withCredentials(['grant_type', 'client_id', 'client_secret']), post('/oauth2/v3/token'))
  await property('POST /oauth2/v2.1/verify', hostileForm(['id_token', 'client_id', 'nonce', 'user_id']), post('/oauth2/v2.1/verify'))
  await property('POST /oauth2/v2.1/userinfo', hostileForm(['access_token']), post('/oauth2/v2.1/userinfo'))
  await property('GET /oauth2/v2.1/verify', hostileForm(['access_token']), (form) =>
    app.inject({ method: 'GET', url: `/oauth2/v2.1/verify?${query(form)}` }),
  )
  // Header values: what a client can send (visible ASCII and spaces), hostile all the same.
  const headerValue = fc.oneof(
    fc.constantFrom(
      "' OR 1=1 --",
      '{{7*7}}',
      '<script>',
      'a'.repeat(8000),
      '%00',
      'Bearer',
      'Basic',
      'Basic Og==',
      'Basic !!!',
      `Basic ${Buffer.from('%ZZ:%ZZ').toString('base64')}`,
      `Basic ${Buffer.from('\u0000:\u0000').toString('base64')}`,
    ),
    fc.string({ unit: 'binary-ascii', maxLength: 200 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')),
  )
  const scheme = fc.constantFrom('Bearer ', 'bearer ', 'Basic ', '')
  await property(
    'GET /oauth2/v2.1/userinfo and /v2/profile with hostile Authorization',
    fc.tuple(fc.constantFrom('/oauth2/v2.1/userinfo', '/v2/profile'), scheme, headerValue),
    ([url, s, value]) => app.inject({ method: 'GET', url, headers: { authorization: `${s}${value}` } }),
  )
  await property(
    'POST /oauth2/v2.1/token with hostile Basic credentials',
    fc.tuple(headerValue, hostileForm(['grant_type', 'code', 'redirect_uri'])),
    ([value, form]) =>
      app.inject({
        method: 'POST',
        url: '/oauth2/v2.1/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${value}` },
        payload: query(form),
      }),
  )
})

test('JSON APIs: /user/v1/deauthorize and the admin API, with nested and mistyped JSON', async () => {
  const { app, adminToken, admin, consentChannel } = await cast()
  const channelToken = (
    await app.inject({
      method: 'POST',
      url: '/oauth2/v3/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: consentChannel.channelId,
        client_secret: consentChannel.secret!,
      }).toString(),
    })
  ).json() as { access_token: string }
  const body = fc.oneof(
    jsonHostile.map((value) => JSON.stringify(value) ?? 'null'),
    jsonHostile.map((value) => JSON.stringify({ userAccessToken: value, reason: value }) ?? '{}'),
    fc.constantFrom(
      '{"a":',
      '{"__proto__":{"x":1}}',
      '{"constructor":{"prototype":{"x":1}}}',
      '[',
      '"\\ud800"',
      '{"reason":"\\u0000"}',
      '1e99999',
    ),
  )
  await property('POST /user/v1/deauthorize', body, (payload) =>
    app.inject({
      method: 'POST',
      url: '/user/v1/deauthorize',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${channelToken.access_token}` },
      payload,
    }),
  )
  const apiPost = fc.constantFrom(
    '/applications/ID/approve',
    '/applications/ID/reject',
    '/channels/ID/suspend',
    '/channels/ID/unsuspend',
    '/channels/ID/permissions/ID/suspend',
  )
  await property('POST /admin/api/* (API token)', fc.tuple(apiPost, pathSegment, body), ([route, id, payload]) =>
    app.inject({
      method: 'POST',
      url: `/admin/api${route.replaceAll('ID', id)}`,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      payload,
    }),
  )
  await property('POST /admin/api/* (session)', fc.tuple(apiPost, pathSegment, body), ([route, id, payload]) =>
    app.inject({
      method: 'POST',
      url: `/admin/api${route.replaceAll('ID', id)}`,
      headers: { 'content-type': 'application/json', cookie: admin.cookie },
      payload,
    }),
  )
  await property(
    'GET /admin/api/*',
    fc.tuple(
      fc.constantFrom('/applications', '/audit', '/users', '/channels', '/applications/ID'),
      pathSegment,
      hostileForm(['state', 'limit', 'cursor', 'q', 'action', 'actor', 'object', 'before']),
    ),
    ([route, id, form]) =>
      app.inject({
        method: 'GET',
        url: `/admin/api${route.replace('ID', id)}?${query(form)}`,
        headers: { authorization: `Bearer ${adminToken}` },
      }),
  )
  await property(
    'admin API with hostile tokens',
    fc.string({ unit: 'binary-ascii', maxLength: 100 }).map((s) => s.replace(/[^\x21-\x7e]/g, '')),
    (token) => app.inject({ method: 'GET', url: '/admin/api/users', headers: { authorization: `Bearer ${token}` } }),
  )
})

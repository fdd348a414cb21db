// Browser hardening: OWASP ASVS 5 V3 (web frontend security: CSP, framing, nosniff, referrer,
// HSTS, output encoding), V7 (session management: a new session id at login), RFC 9700 §4.11
// (clickjacking: frame-ancestors 'none' and X-Frame-Options), RFC 9700 §4.12 and RFC 9110 §15.4.4
// (a redirect answering a form post is 303, never 302 or 307), and RFC 6749 §10.13 (clickjacking
// of the authorization page).
//
// One story walks every HTML page — logged out, logged in, console, administration, consent,
// form_post, error pages — with hostile markup in every value a user or developer controls
// (channel, provider and display names, privacy-policy and callback URLs, purposes, reasons,
// Profile+ values). A hook records every response of the app, so each HTML page is checked for
// its security headers and for unescaped markup, and each POST route listed in src/routes is
// checked to answer with a page or a 303.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { buildApp } from '../../src/app.ts'
import { ENDPOINTS } from '../../src/oauth/discovery.ts'
import { build, buildOptions, testConfig } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const database = await testDatabase()
const db = database.db

/** Markup that must never reach a page unescaped. */
const SCRIPT = '"><script>alert(1)</script>'
const IMG = "'><img src=x onerror=alert(2)>"
const RAW_MARKUP = ['<script>alert(1)', '<img src=x', "'><img", '"><script']

interface Recorded {
  method: string
  url: string
  route: string
  status: number
  headers: Record<string, unknown>
  body: string
}

/** A plusid app whose every response is recorded. */
async function recordingApp(
  t: { after: (fn: () => Promise<unknown>) => void },
  env: Record<string, string> = {},
): Promise<{ app: FastifyInstance; responses: Recorded[] }> {
  const app = await buildApp(testConfig(env), await buildOptions())
  const responses: Recorded[] = []
  app.addHook('onSend', async (request, reply, payload) => {
    responses.push({
      method: request.method,
      url: request.url,
      route: request.routeOptions.url ?? '(none)',
      status: reply.statusCode,
      headers: reply.getHeaders() as Record<string, unknown>,
      body: typeof payload === 'string' ? payload : '',
    })
    return payload
  })
  t.after(() => app.close())
  await app.ready()
  return { app, responses }
}

function assertSecurityHeaders(response: Recorded, https: boolean) {
  const where = `${response.method} ${response.url} (${response.status})`
  const csp = String(response.headers['content-security-policy'] ?? '')
  assert.ok(csp, `${where}: no CSP`)
  const directives = new Map(
    csp
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .map(([name, ...values]) => [name!, values]),
  )
  const scripts = directives.get('script-src') ?? directives.get('default-src') ?? []
  assert.ok(scripts.length > 0, `${where}: scripts are not restricted`)
  assert.ok(!scripts.includes("'unsafe-inline'") && !scripts.includes("'unsafe-eval'") && !scripts.includes('*'), `${where}: ${csp}`)
  assert.deepEqual(directives.get('object-src'), ["'none'"], where)
  assert.deepEqual(directives.get('base-uri'), ["'none'"], where)
  assert.deepEqual(directives.get('frame-ancestors'), ["'none'"], where)
  assert.equal(response.headers['x-frame-options'], 'DENY', where)
  assert.equal(response.headers['x-content-type-options'], 'nosniff', where)
  assert.equal(response.headers['referrer-policy'], 'no-referrer', where)
  const hsts = response.headers['strict-transport-security']
  if (https) assert.match(String(hsts), /max-age=(\d{8,}|3\d{7})/, `${where}: HSTS`)
  else assert.equal(hsts, undefined, `${where}: HSTS on plain http would be ignored at best`)
}

function assertEscaped(response: Recorded) {
  const where = `${response.method} ${response.url} (${response.status})`
  for (const raw of RAW_MARKUP) assert.ok(!response.body.includes(raw), `${where} shows ${raw} unescaped`)
  // No link, image, form or frame may point at a script URL.
  assert.doesNotMatch(response.body, /\s(href|src|action|formaction)\s*=\s*["']?\s*(javascript|data|vbscript):/i, where)
}

/** POST routes of the HTML pages, read from the route files (the protocol's JSON endpoints excluded). */
function htmlPostRoutes(): string[] {
  const dir = path.join(import.meta.dirname, '../../src/routes')
  const routes = new Set<string>()
  for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
    const source = fs.readFileSync(path.join(dir, file), 'utf8')
    for (const match of source.matchAll(/\b(?:app|scope)\.post\(\s*(?:'([^']+)'|ENDPOINTS\.(\w+))/g)) {
      const route = match[1] ?? ENDPOINTS[match[2] as keyof typeof ENDPOINTS]
      // admin.ts's JSON API is registered under /admin/api with its routes written without the prefix.
      if (file === 'admin.ts' && !route.startsWith('/admin')) continue
      routes.add(route)
    }
  }
  return [...routes].sort()
}

test('every HTML page, every POST route: security headers, escaped values, 303 after form posts', async (t) => {
  const { app, responses } = await recordingApp(t)

  // ---- logged out pages
  const visitor = new Browser(app)
  await visitor.get('/login')
  await visitor.get('/register')
  await visitor.get('/nope')
  await visitor.get('/interaction/does-not-exist')
  await visitor.get('/oauth2/v2.1/authorize?client_id=0000000000&redirect_uri=https%3A%2F%2Fx')
  await visitor.get('/oauth2/v2.1/logout')
  await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{}' })
  await app.inject({
    method: 'POST',
    url: '/login',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'a='.repeat(40_000),
  })

  // ---- a developer builds a provider and a channel with markup everywhere
  const developer = new Browser(app)
  await registerUser(developer, { name: `Dev${IMG}` })
  await developer.get('/console')
  let response = await developer.post('/console/providers', { name: `Provider ${SCRIPT}` })
  assert.equal(response.statusCode, 303)
  const providerUrl = String(response.headers.location)
  await developer.get(providerUrl)
  const callback = `https://rp.example.com/cb?x=${encodeURIComponent(SCRIPT)}`
  const channelForm = {
    name: `Shop ${SCRIPT}${IMG}`,
    description: `About ${SCRIPT}`,
    icon_url: 'javascript:alert(1)',
    privacy_policy_url: `https://shop.example/privacy?q="><script>alert(1)</script>`,
    kind: 'web',
    callback_urls: callback,
    logout_urls: callback,
    id_token_alg: 'ES256',
  }
  // Script URLs are refused as icon and policy URLs, and the refused value is shown escaped.
  for (const bad of ['javascript:alert(1)', 'data:text/html,<script>alert(1)</script>', 'JaVaScRiPt:alert(1)', ' javascript:alert(1)']) {
    response = await developer.post(`${providerUrl}/channels`, { ...channelForm, icon_url: bad })
    assert.equal(response.statusCode, 400)
    assert.match(response.body, /Icon URL must be an https URL/)
    response = await developer.post(`${providerUrl}/channels`, { ...channelForm, icon_url: '', privacy_policy_url: bad })
    assert.equal(response.statusCode, 400)
    assert.match(response.body, /Privacy policy URL must be an https URL/)
  }
  response = await developer.post(`${providerUrl}/channels`, { ...channelForm, icon_url: 'https://cdn.example/icon.png' })
  assert.equal(response.statusCode, 303, 'the secret is shown on the page the answer redirects to')
  response = await developer.get(String(response.headers.location))
  assert.equal(response.statusCode, 200, 'the secret page')
  const channelId = /\/console\/channels\/(\d{10})/.exec(response.body)![1]!
  const channelUrl = `/console/channels/${channelId}`
  await developer.get(channelUrl)
  assert.match(developer.lastPage, /Shop &quot;&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;/, 'the name is shown, escaped')
  assert.equal((await developer.post(channelUrl, { ...channelForm, icon_url: 'https://cdn.example/icon.png' })).statusCode, 303)
  for (const item of ['address', 'real_name']) {
    await developer.get(channelUrl)
    response = await developer.post(`${channelUrl}/applications`, {
      items: item,
      purpose: `Deliveries ${SCRIPT}`,
      policy_url: `https://shop.example/p?${SCRIPT}`,
    })
    assert.equal(response.statusCode, 303)
  }
  const colleague = new Browser(app)
  const colleagueAccount = await registerUser(colleague, { name: `Colleague ${SCRIPT}` })
  await developer.get(providerUrl)
  assert.equal((await developer.post(`${providerUrl}/members`, { email: colleagueAccount.email, role: 'developer' })).statusCode, 303)
  await developer.get(channelUrl)
  assert.equal((await developer.post(`${channelUrl}/testers`, { email: colleagueAccount.email })).statusCode, 303)
  // Both are invitations the colleague accepts on their own page (markup in the names, escaped).
  for (let i = 0; i < 2; i++) {
    await colleague.get('/account/invitations')
    const invitation = /action="(\/account\/invitations\/[0-9a-f-]+)"/.exec(colleague.lastPage)![1]!
    assert.equal((await colleague.post(invitation, { decision: 'accept' })).statusCode, 303)
  }
  await developer.get(channelUrl)
  assert.equal((await developer.post(`${channelUrl}/publish`, {})).statusCode, 303)
  await developer.get(`${channelUrl}/secret`)
  response = await developer.post(`${channelUrl}/secret`, {})
  assert.equal(response.statusCode, 303)
  response = await developer.get(String(response.headers.location))
  assert.equal(response.statusCode, 200, 'the new secret is a page')
  const secret = /class="channel-secret">([0-9a-f]{32})</.exec(response.body)![1]!

  // ---- an administrator reviews
  const admin = new Browser(app)
  const adminAccount = await registerUser(admin, { name: `Admin ${IMG}` })
  await db.updateTable('users').set({ is_admin: true }).where('email_hmac', '=', keyring().emailHmac(adminAccount.email)).execute()
  await admin.get('/admin')
  assert.match(admin.lastPage, /Deliveries &quot;&gt;&lt;script&gt;/)
  const [approveAction] = [...admin.lastPage.matchAll(/action="(\/admin\/applications\/[0-9a-f-]+\/approve)"/g)].map((m) => m[1]!)
  assert.equal((await admin.post(approveAction!, {})).statusCode, 303)
  await admin.get('/admin')
  const rejectAction = /action="(\/admin\/applications\/[0-9a-f-]+\/reject)"/.exec(admin.lastPage)![1]!
  assert.equal((await admin.post(rejectAction, { reason: `No ${SCRIPT}` })).statusCode, 303)
  // A change after the approval reaches the queue (old and new values escaped); the admin looks at it.
  await developer.get(channelUrl)
  assert.equal((await developer.post(channelUrl, { ...channelForm, icon_url: `https://cdn.example/new.png?${SCRIPT}` })).statusCode, 303)
  await admin.get('/admin')
  assert.match(admin.lastPage, /class="change-new">https:\/\/cdn\.example\/new\.png\?&quot;&gt;&lt;script&gt;/)
  const reviewedAction = /action="(\/admin\/changes\/[0-9a-f-]+\/reviewed)"/.exec(admin.lastPage)![1]!
  assert.equal((await admin.post(reviewedAction, {})).statusCode, 303)
  await admin.get(`/admin/channels?q=${encodeURIComponent('Shop')}`)
  await admin.get(`/admin/channels/${channelId}`)
  assert.equal((await admin.post(`/admin/channels/${channelId}/suspend`, { reason: `Because ${SCRIPT}` })).statusCode, 303)
  await admin.get(`/admin/channels/${channelId}`)
  assert.equal((await admin.post(`/admin/channels/${channelId}/unsuspend`, {})).statusCode, 303)
  await admin.get('/admin/users?q=')
  const other = await registerUser(new Browser(app), { name: `Other ${SCRIPT}` })
  await admin.get(`/admin/users?q=${encodeURIComponent(other.email)}`)
  assert.match(admin.lastPage, /Other &quot;&gt;&lt;script&gt;/)
  const disableAction = /action="(\/admin\/users\/[0-9a-f-]+\/disable)"/.exec(admin.lastPage)![1]!
  assert.equal((await admin.post(disableAction, {})).statusCode, 303)
  await admin.get(`/admin/users?q=${encodeURIComponent(other.email)}`)
  assert.equal((await admin.post(disableAction.replace(/disable$/, 'enable'), {})).statusCode, 303)
  const adminRow = await db
    .selectFrom('users')
    .select('id')
    .where('email_hmac', '=', keyring().emailHmac(adminAccount.email))
    .executeTakeFirstOrThrow()
  await createAdminToken(db, adminRow.id)
  await admin.get('/admin/tokens')
  const revokeAction = /action="(\/admin\/tokens\/[0-9a-f-]+\/revoke)"/.exec(admin.lastPage)![1]!
  assert.equal((await admin.post(revokeAction, {})).statusCode, 303)
  await admin.get('/admin/tokens?done=revoked')
  await admin.get('/admin/audit')
  await developer.get(channelUrl)
  assert.match(developer.lastPage, /No &quot;&gt;&lt;script&gt;/, 'the rejection reason is shown to the developer, escaped')
  await colleague.get('/admin')

  // ---- a user with markup in their Profile+ data consents
  const user = new Browser(app)
  const userAccount = await registerUser(user, { name: `User ${SCRIPT}` })
  await user.get('/account/profile')
  response = await user.post('/account/profile', {
    name: `User ${SCRIPT}`,
    family_name: `山田${SCRIPT}`,
    given_name: `花子${IMG}`,
    family_name_pronunciation: 'ヤマダ',
    given_name_pronunciation: 'ハナコ',
    gender: '<script>alert(1)</script>',
    'address.postal_code': '102-8282',
    'address.region': '東京都',
    'address.locality': `千代田区${IMG}`,
    'address.street_address': `1番3号${SCRIPT}`,
    'address.country': 'JP',
  })
  assert.equal(response.statusCode, 303)
  await user.get('/account')
  await user.get('/account/profile')
  // A password change, refused once (wrong current password: the page again), then done.
  await user.get('/account/password')
  assert.equal(
    (
      await user.post('/account/password', {
        current_password: `wrong ${SCRIPT}`,
        new_password: 'a new password',
        new_password_again: 'a new password',
      })
    ).statusCode,
    400,
  )
  assert.equal(
    (
      await user.post('/account/password', {
        current_password: userAccount.password,
        new_password: 'a new password',
        new_password_again: 'a new password',
      })
    ).statusCode,
    303,
  )
  userAccount.password = 'a new password'
  await user.get('/account/password?changed=1')
  const authorize = (extra: Record<string, string> = {}) =>
    `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channelId, redirect_uri: callback, scope: 'openid profile address', state: 'st', ...extra })}`
  response = await user.get(authorize())
  assert.equal(response.statusCode, 303)
  const consent = await user.get(String(response.headers.location))
  assert.equal(consent.statusCode, 200)
  assert.match(consent.body, /1番3号&quot;&gt;&lt;script&gt;/, 'the address is shown on the consent page, escaped')
  const consentAction = /action="(\/interaction\/[^"]+\/consent)"/.exec(consent.body)![1]!
  response = await user.post(consentAction, { items: 'address', decision: 'allow' })
  assert.equal(response.statusCode, 303)
  assert.ok(String(response.headers.location).startsWith('https://rp.example.com/cb?'))
  // The code's exchange releases the address: the sharing history shows it.
  const code = new URL(String(response.headers.location)).searchParams.get('code')!
  const tokens = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({
      grant_type: 'authorization_code',
      code,
      redirect_uri: callback,
      client_id: channelId,
      client_secret: secret,
    }).toString(),
  })
  assert.equal(tokens.statusCode, 200, tokens.body)
  // form_post: the callback URL is the form's action, escaped.
  response = await user.get(authorize({ response_mode: 'form_post' }))
  assert.equal(response.statusCode, 200)
  assert.match(response.body, /<form id="form-post" method="post" action="https:\/\/rp\.example\.com\/cb\?x=/)
  // Logging in inside an authorization, from another browser (the tester colleague).
  const fresh = new Browser(app)
  response = await fresh.get(authorize())
  await fresh.get(String(response.headers.location))
  const loginAction = /action="(\/interaction\/[^"]+\/login)"/.exec(fresh.lastPage)![1]!
  assert.equal((await fresh.post(loginAction, { email: userAccount.email, password: userAccount.password })).statusCode, 303)
  // POST authorize without cookies becomes the same GET.
  assert.equal(
    (
      await app.inject({
        method: 'POST',
        url: '/oauth2/v2.1/authorize',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ client_id: channelId }).toString(),
      })
    ).statusCode,
    303,
  )

  for (const page of ['/account/apps', '/account/history', '/account/sessions', '/account/delete', '/logout', '/account/export'])
    await user.get(page)
  await user.get('/account/sessions')
  const endSession = /action="(\/account\/sessions\/[^"]+\/end)"/.exec(user.lastPage)![1]!
  assert.equal((await user.post(endSession, {})).statusCode, 303)
  await user.get('/account/sessions')
  assert.equal((await user.post('/account/sessions/end-others', {})).statusCode, 303)
  await user.get(`/oauth2/v2.1/logout?${new URLSearchParams({ client_id: channelId, post_logout_redirect_uri: callback, state: SCRIPT })}`)
  assert.equal(
    (await user.post('/oauth2/v2.1/logout', { client_id: channelId, post_logout_redirect_uri: callback, stay: 'yes' })).statusCode,
    303,
  )
  await user.get('/account/apps')
  assert.match(user.lastPage, /Shop &quot;&gt;&lt;script&gt;/)
  assert.equal((await user.post(`/account/apps/${channelId}/unlink`, {})).statusCode, 303)
  await user.get('/account/history')
  assert.match(user.lastPage, /Shop &quot;&gt;&lt;script&gt;/)
  await user.get('/account/password')
  const newPassword = `${userAccount.password} ${SCRIPT}`
  assert.equal(
    (
      await user.post('/account/password', {
        current_password: userAccount.password,
        new_password: newPassword,
        new_password_again: newPassword,
      })
    ).statusCode,
    303,
  )
  await user.get('/account/password?changed=1')
  await user.get('/account/delete')
  assert.equal((await user.post('/account/delete', { password: newPassword })).statusCode, 200, 'a page says the account is gone')
  await admin.get('/logout')
  assert.equal((await admin.post('/logout', {})).statusCode, 303)
  await admin.get('/login')
  assert.equal((await admin.post('/login', { email: adminAccount.email, password: adminAccount.password })).statusCode, 303)
  await admin.get('/admin')
  await admin.get(`/admin/channels/${channelId}`)
  assert.equal((await admin.post(`/admin/channels/${channelId}/permissions/address/suspend`, { reason: SCRIPT })).statusCode, 303)

  // ---- every HTML response: headers and escaping
  const pages = responses.filter((r) => String(r.headers['content-type'] ?? '').startsWith('text/html'))
  assert.ok(pages.length > 60, `only ${pages.length} pages`)
  for (const page of pages) {
    assertSecurityHeaders(page, false)
    assertEscaped(page)
  }
  const statuses = new Set(pages.map((p) => p.status))
  for (const status of [200, 400, 403, 404, 413, 415]) assert.ok(statuses.has(status), `an error page with ${status} was checked`)

  // ---- every POST route of the pages answered with a page or a 303 — and was exercised
  const posts = responses.filter((r) => r.method === 'POST')
  for (const post of posts) {
    if (post.status >= 300 && post.status < 400) assert.equal(post.status, 303, `${post.url} redirected with ${post.status}`)
  }
  const exercised = new Set(posts.filter((p) => p.status === 303 || p.status === 200).map((p) => p.route))
  const missing = htmlPostRoutes().filter((route) => !exercised.has(route))
  assert.deepEqual(missing, [], 'POST routes this test did not exercise')
})

test('HSTS on https (and __Host- cookies), never on http', async (t) => {
  const https = await build(t, { PUBLIC_URL: 'https://id.example.com' })
  const page = await https.inject({ method: 'GET', url: '/login' })
  assert.match(String(page.headers['strict-transport-security']), /max-age=31536000; includeSubDomains/)
  assert.ok(
    page.cookies.every((c) => c.name.startsWith('__Host-') && c.secure),
    JSON.stringify(page.cookies),
  )
  const json = await https.inject({ method: 'GET', url: '/.well-known/openid-configuration' })
  assert.match(String(json.headers['strict-transport-security']), /max-age=31536000/)
  const http = await build(t)
  assert.equal((await http.inject({ method: 'GET', url: '/login' })).headers['strict-transport-security'], undefined)
})

test('session fixation: the session id changes at every login; the one from before is worthless after', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const first = await registerUser(browser)
  const second = await registerUser(new Browser(app))
  const sessionCookie = () => [...browser.cookies].find(([name]) => name.includes('plusid_session'))
  const before = sessionCookie()
  assert.ok(before, 'registration logged the first user in')
  // A planted or earlier session id in the browser, then a login (here as another person).
  await browser.get('/login?next=%2Faccount')
  assert.equal((await browser.post('/login', { email: second.email, password: second.password, next: '/account' })).statusCode, 303)
  const after = sessionCookie()
  assert.ok(after && after[1] !== before[1], 'a new session id')
  const old = await app.inject({ method: 'GET', url: '/account', headers: { cookie: `${before[0]}=${before[1]}` } })
  assert.equal(old.statusCode, 303, 'the old session no longer logs anyone in')
  assert.match(String(old.headers.location), /^\/login/)
  // A session id made up by an attacker is never adopted.
  const planted = new Browser(app)
  planted.cookies.set(before[0], 'attacker-chosen.value')
  await planted.get('/login')
  assert.equal((await planted.post('/login', { email: first.email, password: first.password })).statusCode, 303)
  assert.notEqual(planted.cookies.get(before[0]), 'attacker-chosen.value')
  // The same inside an authorization's login (prompt=login while logged in).
  const channel = await createTestChannel()
  const current = sessionCookie()!
  const start = await browser.get(
    `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channel.channelId, redirect_uri: channel.redirectUri, scope: 'openid profile', state: 's', prompt: 'login' })}`,
  )
  await browser.get(String(start.headers.location))
  const loginAction = /action="(\/interaction\/[^"]+\/login)"/.exec(browser.lastPage)![1]!
  assert.equal((await browser.post(loginAction, { email: first.email, password: first.password })).statusCode, 303)
  assert.notEqual(sessionCookie()![1], current[1])
  assert.equal((await app.inject({ method: 'GET', url: '/account', headers: { cookie: `${current[0]}=${current[1]}` } })).statusCode, 303)
})

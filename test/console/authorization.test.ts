// Authorization in every console and administration route: a developer of one provider sees and
// changes nothing of another (404: existence must not leak); developers cannot do what only
// owners may; only administrators review; an administrator cannot review (or suspend) a channel
// of a provider they belong to; HTML forms need their CSRF token; the admin API takes JSON only
// from a session and answers errors as JSON. Every forbidden action is tried, and the database is
// checked to be unchanged.
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { test } from 'node:test'
import { keyring } from '../../src/crypto/keyring.ts'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { approvePermissions } from '../../src/oauth/channels.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const database = await testDatabase()
const db = database.db

/**
 * The request's response, or a failure after 10 s: a request that never answers (a transaction
 * waiting for a second connection of the one-connection embedded database) fails its test with
 * a message instead of hanging the file.
 */
async function answered<T>(request: Promise<T>, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not answer within 10 s`)), 10_000)
  })
  try {
    return await Promise.race([request, timeout])
  } finally {
    clearTimeout(timer)
  }
}

/** Browser.post (the CSRF token of the last page), failing after 10 s without an answer. */
const post = (browser: Browser, url: string, fields: Record<string, string>) => answered(browser.post(url, fields), `POST ${url}`)

// ---------------------------------------------------------------- helpers

interface Person {
  browser: Browser
  email: string
  userId: string
}

/** A user registered through the HTML form, logged in in their own browser. */
async function person(app: FastifyInstance, prefix: string, options: { admin?: boolean } = {}): Promise<Person> {
  const browser = new Browser(app)
  const email = uniqueEmail(prefix)
  await registerUser(browser, { email })
  if (options.admin) await db.updateTable('users').set({ is_admin: true }).where('email_hmac', '=', keyring().emailHmac(email)).execute()
  const row = await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).executeTakeFirstOrThrow()
  return { browser, email, userId: row.id }
}

let names = 0
const uniqueName = (prefix: string) => `${prefix} ${process.pid}-${Date.now()}-${++names}`

/** POST /console/providers: returns the new provider's id. */
async function createProvider(owner: Person, name = uniqueName('Provider')): Promise<string> {
  const response = await owner.browser.submit('/console', '/console/providers', { name })
  assert.equal(response.statusCode, 303, `provider creation failed: ${response.body.slice(0, 500)}`)
  const match = /^\/console\/providers\/([0-9a-f-]{36})$/.exec(String(response.headers.location))
  assert.ok(match, `unexpected redirect ${response.headers.location}`)
  return match[1]!
}

const CHANNEL_FIELDS = {
  kind: 'web',
  callback_urls: 'https://rp.example.com/callback',
  id_token_alg: 'ES256',
  error_style: 'rfc',
  description: 'A shop',
  icon_url: '',
  privacy_policy_url: 'https://rp.example.com/privacy',
}

/** POST /console/providers/:id/channels (a web channel, by an owner): returns its id. */
async function createChannel(owner: Person, providerId: string, name = uniqueName('Channel')): Promise<string> {
  const response = await owner.browser.submit(`/console/providers/${providerId}`, `/console/providers/${providerId}/channels`, {
    ...CHANNEL_FIELDS,
    name,
  })
  assert.equal(response.statusCode, 303, `channel creation failed: ${response.body.slice(0, 500)}`)
  const match = /^\/console\/channels\/(\d{10})\/secret\/[0-9a-f-]{36}$/.exec(String(response.headers.location))
  assert.ok(match, `the owner is sent to the page that shows the secret once, not ${response.headers.location}`)
  const shown = await owner.browser.get(String(response.headers.location))
  assert.match(shown.body, /class="channel-secret">[0-9a-f]{32}</)
  return match[1]!
}

/** POST /console/channels/:id/applications: returns the application's id. */
async function apply(owner: Person, channelId: string, item: string): Promise<string> {
  const response = await owner.browser.submit(
    `/console/channels/${channelId}`,
    `/console/channels/${channelId}/applications`,
    applicationFields(item),
  )
  assert.equal(response.statusCode, 303, `application failed: ${response.body.slice(0, 500)}`)
  const row = await db
    .selectFrom('permission_applications')
    .select('id')
    .where('channel_id', '=', channelId)
    .where('item', '=', item)
    .where('state', '=', 'applied')
    .executeTakeFirstOrThrow()
  return row.id
}

const applicationFields = (item: string) => ({
  items: item,
  purpose: 'We ship the goods you buy to this address.',
  policy_url: 'https://rp.example.com/privacy',
})

/** POST /console/providers/:id/members as the owner. */
async function addMember(owner: Person, providerId: string, member: Person, role: 'owner' | 'developer'): Promise<void> {
  const response = await owner.browser.submit(`/console/providers/${providerId}`, `/console/providers/${providerId}/members`, {
    email: member.email,
    role,
  })
  assert.equal(response.statusCode, 303, `adding a member failed: ${response.body.slice(0, 500)}`)
  // Membership is an invitation the member accepts on their own pages.
  await acceptInvitation(member)
}

/** The person accepts their (oldest) pending invitation on /account/invitations. */
async function acceptInvitation(person: Person): Promise<void> {
  await person.browser.get('/account/invitations')
  const action = /action="(\/account\/invitations\/[0-9a-f-]{36})"/.exec(person.browser.lastPage)
  assert.ok(action, 'an invitation is waiting')
  const accepted = await person.browser.post(action[1]!, { decision: 'accept' })
  assert.equal(accepted.statusCode, 303, accepted.body.slice(0, 300))
}

/** A form POST with the browser's cookies but no csrf_token field. */
function postWithoutCsrf(browser: Browser, url: string, fields: Record<string, string> = {}): Promise<LightMyRequestResponse> {
  const request = browser.app.inject({
    method: 'POST',
    url,
    headers: { cookie: browser.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams(fields).toString(),
  })
  return answered(request, `POST ${url} without csrf_token`)
}

/** A request to the admin API: with a Bearer token, a browser's session cookies, or nothing. */
function api(
  app: FastifyInstance,
  method: 'GET' | 'POST',
  url: string,
  auth: { token?: string; browser?: Browser; authorization?: string } = {},
  body?: { type: string; payload: string },
): Promise<LightMyRequestResponse> {
  const headers: Record<string, string> = {}
  if (auth.token) headers.authorization = `Bearer ${auth.token}`
  if (auth.authorization) headers.authorization = auth.authorization
  if (auth.browser) headers.cookie = auth.browser.cookieHeader()
  if (body) headers['content-type'] = body.type
  return answered(app.inject({ method, url, headers, ...(body ? { payload: body.payload } : {}) }), `${method} ${url}`)
}

const json = (value: unknown) => ({ type: 'application/json', payload: JSON.stringify(value) })

/** The response is a JSON error {error, message} with this status. */
function assertJsonError(response: LightMyRequestResponse, status: number, error?: string) {
  assert.equal(response.statusCode, status, `expected ${status}, got ${response.statusCode}: ${response.body.slice(0, 300)}`)
  assert.match(String(response.headers['content-type']), /^application\/json/)
  const body = response.json() as Record<string, unknown>
  assert.equal(typeof body.error, 'string', 'error is a string')
  assert.equal(typeof body.message, 'string', 'message is a string')
  assert.ok((body.message as string).length > 0, 'message is not empty')
  if (error) assert.equal(body.error, error)
}

function assertStatus(response: LightMyRequestResponse, status: number, what: string) {
  assert.equal(response.statusCode, status, `${what}: expected ${status}, got ${response.statusCode}: ${response.body.slice(0, 300)}`)
}

async function channelRow(channelId: string) {
  return db.selectFrom('channels').selectAll().where('id', '=', channelId).executeTakeFirstOrThrow()
}
async function applicationState(id: string) {
  return await db.selectFrom('permission_applications').select(['state', 'reviewer_id']).where('id', '=', id).executeTakeFirstOrThrow()
}
async function permissionState(channelId: string, item: string) {
  return (
    await db
      .selectFrom('channel_permissions')
      .select('state')
      .where('channel_id', '=', channelId)
      .where('item', '=', item)
      .executeTakeFirst()
  )?.state
}
async function countRows(table: 'permission_applications' | 'channel_testers' | 'channel_secret_reveals', channelId: string) {
  const row = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('channel_id', '=', channelId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
async function membership(providerId: string, userId: string) {
  return (
    await db
      .selectFrom('provider_members')
      .select('role')
      .where('provider_id', '=', providerId)
      .where('user_id', '=', userId)
      .executeTakeFirst()
  )?.role
}
async function channelCount(providerId: string) {
  const row = await db
    .selectFrom('channels')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('provider_id', '=', providerId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}
async function auditCount(objectId: string) {
  const row = await db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('object_id', '=', objectId)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

/** The page without the per-render CSRF token, to compare two 404 pages. */
// The page's own address (the language switch links back to it) differs by URL, by design.
const withoutCsrf = (html: string) =>
  html.replace(/name="csrf_token" value="[^"]*"/g, 'name="csrf_token" value=""').replace(/&amp;next=[^"]*"/g, '"')

// ---------------------------------------------------------------- anonymous visitors

test('anonymous visitors are sent to the login page', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'anon-owner')
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const visitor = new Browser(app)
  await visitor.get('/login') // a CSRF token, so that a refusal is not the CSRF check's

  for (const url of [
    '/console',
    '/admin',
    `/console/providers/${providerId}`,
    `/console/channels/${channelId}`,
    '/admin/channels',
    '/admin/users',
    '/admin/audit',
    '/admin/audit.jsonl',
  ]) {
    await t.test(`GET ${url.replace(/[0-9a-f-]{36}|\d{10}/, ':id')} redirects (303) to /login`, async () => {
      const response = await visitor.get(url)
      assertStatus(response, 303, url)
      assert.match(String(response.headers.location), /^\/login(\?|$)/)
      assert.ok(!response.body.includes(channelId), 'nothing of the channel is shown')
    })
  }

  await t.test('POST /console/channels/:id (settings edit) redirects to /login and changes nothing', async () => {
    const before = await channelRow(channelId)
    const response = await visitor.post(`/console/channels/${channelId}`, { ...CHANNEL_FIELDS, name: 'Anonymous edit' })
    assertStatus(response, 303, 'anonymous settings edit')
    assert.match(String(response.headers.location), /^\/login(\?|$)/)
    assert.equal((await channelRow(channelId)).name, before.name)
  })
})

// ---------------------------------------------------------------- provider isolation

test('a member of provider A gets 404 for everything of provider B, and changes nothing', async (t) => {
  const app = await build(t)
  const ownerA = await person(app, 'iso-a')
  const ownerB = await person(app, 'iso-b')
  const providerA = await createProvider(ownerA)
  await createChannel(ownerA, providerA)
  const providerB = await createProvider(ownerB)
  const channelB = await createChannel(ownerB, providerB, uniqueName('Channel B'))
  const original = await channelRow(channelB)
  const auditBefore = await auditCount(channelB)
  // A's browser holds a valid CSRF token (its own console page), so a refusal is the membership check's.
  const own = await ownerA.browser.get(`/console/providers/${providerA}`)
  assertStatus(own, 200, 'own provider page')

  await t.test('GET /console does not list provider B', async () => {
    const response = await ownerA.browser.get('/console')
    assertStatus(response, 200, 'console')
    assert.ok(response.body.includes(providerA), 'provider A is listed')
    assert.ok(!response.body.includes(providerB), 'provider B is not listed')
  })

  await t.test("GET B's provider page → 404", async () => {
    const response = await ownerA.browser.get(`/console/providers/${providerB}`)
    assertStatus(response, 404, "B's provider page")
    assert.ok(!response.body.includes(original.name), "nothing of B's is shown")
  })

  await t.test("GET B's channel page → 404", async () => {
    const response = await ownerA.browser.get(`/console/channels/${channelB}`)
    assertStatus(response, 404, "B's channel page")
    assert.ok(!response.body.includes(original.name), "B's channel name is not shown")
  })

  await t.test("the 404 for B's pages is the same as for pages that do not exist", async () => {
    const missingChannel = await ownerA.browser.get('/console/channels/0000000001')
    const existingChannel = await ownerA.browser.get(`/console/channels/${channelB}`)
    assert.equal(missingChannel.statusCode, 404)
    assert.equal(withoutCsrf(existingChannel.body), withoutCsrf(missingChannel.body))
    const missingProvider = await ownerA.browser.get(`/console/providers/${randomUUID()}`)
    const existingProvider = await ownerA.browser.get(`/console/providers/${providerB}`)
    assert.equal(missingProvider.statusCode, 404)
    assert.equal(withoutCsrf(existingProvider.body), withoutCsrf(missingProvider.body))
  })

  await t.test("POST B's channel settings → 404, name and callback URLs unchanged", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}`, {
      ...CHANNEL_FIELDS,
      name: 'Hijacked',
      callback_urls: 'https://evil.example.com/cb',
    })
    assertStatus(response, 404, "editing B's settings")
    const row = await channelRow(channelB)
    assert.equal(row.name, original.name)
    assert.deepEqual(row.callback_urls, original.callback_urls)
  })

  await t.test("POST B's channel settings switching to HS256 → 404, no secret issued", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}`, {
      ...CHANNEL_FIELDS,
      name: original.name,
      id_token_alg: 'HS256',
    })
    assertStatus(response, 404, "switching B's channel to HS256")
    assert.ok(!/class="channel-secret"/.test(response.body), 'no secret is shown')
    const row = await channelRow(channelB)
    assert.equal(row.id_token_alg, original.id_token_alg)
    assert.deepEqual(row.secret_hash, original.secret_hash)
    assert.equal(row.secret_encrypted, original.secret_encrypted)
  })

  await t.test("POST B's secret reissue → 404, secret hash unchanged", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}/secret`, {})
    assertStatus(response, 404, "reissuing B's secret")
    assert.ok(!/class="channel-secret"/.test(response.body), 'no secret is shown')
    assert.deepEqual((await channelRow(channelB)).secret_hash, original.secret_hash)
  })

  await t.test("POST B's publish → 404, still developing", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}/publish`, {})
    assertStatus(response, 404, "publishing B's channel")
    assert.equal((await channelRow(channelB)).status, 'developing')
  })

  await t.test("POST B's testers → 404, no tester added", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}/testers`, { email: ownerA.email })
    assertStatus(response, 404, "adding a tester to B's channel")
    assert.equal(await countRows('channel_testers', channelB), 0)
  })

  await t.test("POST B's applications → 404, no application made", async () => {
    const response = await post(ownerA.browser, `/console/channels/${channelB}/applications`, applicationFields('email'))
    assertStatus(response, 404, "applying for B's channel")
    assert.equal(await countRows('permission_applications', channelB), 0)
    assert.equal(await permissionState(channelB, 'email'), undefined)
  })

  await t.test("POST B's members → 404, A does not become a member of B", async () => {
    const response = await post(ownerA.browser, `/console/providers/${providerB}/members`, { email: ownerA.email, role: 'owner' })
    assertStatus(response, 404, "adding oneself to B's members")
    assert.equal(await membership(providerB, ownerA.userId), undefined)
  })

  await t.test("POST a new channel into B's provider → 404, no channel made", async () => {
    const response = await post(ownerA.browser, `/console/providers/${providerB}/channels`, { ...CHANNEL_FIELDS, name: 'Planted' })
    assertStatus(response, 404, "creating a channel in B's provider")
    assert.equal(await channelCount(providerB), 1)
  })

  await t.test('none of the refused requests left an audit entry on B\u2019s channel', async () => {
    assert.equal(await auditCount(channelB), auditBefore)
    assert.equal(await membership(providerB, ownerA.userId), undefined)
  })
})

// ---------------------------------------------------------------- roles within a provider

test('a developer of a provider cannot do what only owners may, and can do the rest', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'role-owner')
  const developer = await person(app, 'role-dev')
  const outsider = await person(app, 'role-outsider')
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  await addMember(owner, providerId, developer, 'developer')
  assert.equal(await membership(providerId, developer.userId), 'developer')
  const original = await channelRow(channelId)
  const page = await developer.browser.get(`/console/channels/${channelId}`)
  assertStatus(page, 200, 'the developer sees the channel page')

  await t.test('adding a member → 403, nobody added', async () => {
    const response = await post(developer.browser, `/console/providers/${providerId}/members`, { email: outsider.email, role: 'developer' })
    assertStatus(response, 403, 'developer adding a member')
    assert.equal(await membership(providerId, outsider.userId), undefined)
  })

  await t.test('promoting oneself to owner → 403, still developer', async () => {
    const response = await post(developer.browser, `/console/providers/${providerId}/members`, { email: developer.email, role: 'owner' })
    assertStatus(response, 403, 'developer promoting themself')
    assert.equal(await membership(providerId, developer.userId), 'developer')
  })

  await t.test('publishing → 403, still developing', async () => {
    const response = await post(developer.browser, `/console/channels/${channelId}/publish`, {})
    assertStatus(response, 403, 'developer publishing')
    assert.equal((await channelRow(channelId)).status, 'developing')
  })

  await t.test('reissuing the secret → 403, secret hash unchanged', async () => {
    const response = await post(developer.browser, `/console/channels/${channelId}/secret`, {})
    assertStatus(response, 403, 'developer reissuing the secret')
    assert.ok(!/class="channel-secret"/.test(response.body), 'no secret is shown')
    assert.deepEqual((await channelRow(channelId)).secret_hash, original.secret_hash)
  })

  await t.test('opening the reissue confirmation → 403', async () => {
    assertStatus(await developer.browser.get(`/console/channels/${channelId}/secret`), 403, 'developer opening the reissue page')
  })

  await t.test(
    'saving the settings with HS256 → 400 asking an owner; no secret issued or shown, the owner’s secret unchanged',
    async () => {
      await developer.browser.get(`/console/channels/${channelId}`)
      const response = await post(developer.browser, `/console/channels/${channelId}`, {
        ...CHANNEL_FIELDS,
        name: original.name,
        id_token_alg: 'HS256',
      })
      assertStatus(response, 400, 'developer switching to HS256')
      assert.match(response.body, /ask an owner of the provider to reissue the secret with HS256/)
      assert.doesNotMatch(response.body, /class="channel-secret"|secret\?alg=HS256/)
      const row = await channelRow(channelId)
      assert.equal(row.id_token_alg, original.id_token_alg)
      assert.deepEqual(row.secret_hash, original.secret_hash)
      assert.equal(row.secret_encrypted, null)
      assert.equal(await countRows('channel_secret_reveals', channelId), 0)
    },
  )

  await t.test('a developer’s new web channel: created, its secret shown to nobody', async () => {
    const response = await developer.browser.submit(`/console/providers/${providerId}`, `/console/providers/${providerId}/channels`, {
      ...CHANNEL_FIELDS,
      name: uniqueName('Dev channel'),
    })
    assertStatus(response, 303, 'developer creating a channel')
    const location = String(response.headers.location)
    assert.match(location, /^\/console\/channels\/\d{10}\?secret=owner$/)
    const page = await developer.browser.get(location)
    assert.match(page.body, /Only owners of the provider see secrets/)
    assert.doesNotMatch(page.body, /class="channel-secret"/)
    assert.equal(await countRows('channel_secret_reveals', location.slice(18, 28)), 0)
  })

  await t.test('editing the settings → allowed (303), saved', async () => {
    await developer.browser.get(`/console/channels/${channelId}`)
    const response = await post(developer.browser, `/console/channels/${channelId}`, {
      ...CHANNEL_FIELDS,
      name: 'Renamed by the developer',
    })
    assertStatus(response, 303, 'developer editing settings')
    assert.equal((await channelRow(channelId)).name, 'Renamed by the developer')
  })

  await t.test('applying for an item → allowed (303), application recorded', async () => {
    await developer.browser.get(`/console/channels/${channelId}`)
    const response = await post(developer.browser, `/console/channels/${channelId}/applications`, applicationFields('email'))
    assertStatus(response, 303, 'developer applying')
    const row = await db
      .selectFrom('permission_applications')
      .select(['state', 'applicant_id'])
      .where('channel_id', '=', channelId)
      .where('item', '=', 'email')
      .executeTakeFirstOrThrow()
    assert.equal(row.state, 'applied')
    assert.equal(row.applicant_id, developer.userId)
  })
})

// ---------------------------------------------------------------- administration: non-administrators

test('non-administrators get 403 on every administration page and action', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'nonadmin-owner') // a non-administrator owner of the channel
  const stranger = await person(app, 'nonadmin-stranger')
  const admin = await person(app, 'nonadmin-admin', { admin: true })
  const { token: adminToken } = await createAdminToken(db, admin.userId)
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const pending = await apply(owner, channelId, 'email')
  await approvePermissions(db, channelId, ['phone']) // as `plusid channel permit` does
  assert.equal(await permissionState(channelId, 'phone'), 'approved')
  const nonAdmins = [
    ['the channel\u2019s owner', owner],
    ['a stranger', stranger],
  ] as const

  for (const url of ['/admin', '/admin/channels', `/admin/channels/${channelId}`, '/admin/users', '/admin/audit', '/admin/audit.jsonl']) {
    await t.test(`GET ${url.replace(/\d{10}/, ':id')} → 403`, async () => {
      for (const [, user] of nonAdmins) {
        const response = await user.browser.get(url)
        assertStatus(response, 403, `${url} as a non-administrator`)
        assert.ok(!response.body.includes(admin.email), 'no user is listed')
        assert.ok(!response.body.includes(pending), 'no application is listed')
      }
    })
  }

  const posts: [string, string, Record<string, string>, () => Promise<void>][] = [
    [
      'approve an application',
      `/admin/applications/${pending}/approve`,
      {},
      async () => assert.equal((await applicationState(pending)).state, 'applied'),
    ],
    [
      'reject an application',
      `/admin/applications/${pending}/reject`,
      { reason: 'no' },
      async () => assert.equal((await applicationState(pending)).state, 'applied'),
    ],
    [
      'suspend a channel',
      `/admin/channels/${channelId}/suspend`,
      { reason: 'abuse' },
      async () => assert.equal((await channelRow(channelId)).suspended_at, null),
    ],
    [
      'lift a suspension',
      `/admin/channels/${channelId}/unsuspend`,
      {},
      async () => assert.equal((await channelRow(channelId)).suspended_at, null),
    ],
    [
      'suspend a permission',
      `/admin/channels/${channelId}/permissions/phone/suspend`,
      { reason: 'abuse' },
      async () => assert.equal(await permissionState(channelId, 'phone'), 'approved'),
    ],
  ]
  for (const [what, url, fields, unchanged] of posts) {
    await t.test(`POST ${what} (HTML) → 403, nothing changed`, async () => {
      for (const [who, user] of nonAdmins) {
        await user.browser.get('/account') // a valid CSRF token: the refusal must be the administrator check's
        const response = await post(user.browser, url, fields)
        assertStatus(response, 403, `${what} as ${who}`)
        await unchanged()
      }
    })
  }

  await t.test('GET /admin/api/* with a non-administrator session → 403 JSON', async () => {
    for (const url of [
      '/admin/api/applications?state=applied',
      `/admin/api/applications/${pending}`,
      '/admin/api/audit',
      '/admin/api/users',
      '/admin/api/channels',
    ]) {
      const response = await api(app, 'GET', url, { browser: owner.browser })
      assertJsonError(response, 403)
      assert.ok(!response.body.includes(admin.email), 'no user is listed')
    }
  })

  await t.test('POST /admin/api/* (JSON) with a non-administrator session → 403 JSON, nothing changed', async () => {
    assertJsonError(await api(app, 'POST', `/admin/api/applications/${pending}/approve`, { browser: owner.browser }, json({})), 403)
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${pending}/reject`, { browser: owner.browser }, json({ reason: 'no' })),
      403,
    )
    assertJsonError(
      await api(app, 'POST', `/admin/api/channels/${channelId}/suspend`, { browser: stranger.browser }, json({ reason: 'abuse' })),
      403,
    )
    assertJsonError(
      await api(app, 'POST', `/admin/api/channels/${channelId}/permissions/phone/suspend`, { browser: stranger.browser }, json({})),
      403,
    )
    assert.equal((await applicationState(pending)).state, 'applied')
    assert.equal((await channelRow(channelId)).suspended_at, null)
    assert.equal(await permissionState(channelId, 'phone'), 'approved')
  })

  await t.test('/admin/api/* without any credentials → 401 JSON', async () => {
    for (const [method, url] of [
      ['GET', '/admin/api/applications'],
      ['GET', '/admin/api/audit'],
      ['POST', `/admin/api/applications/${pending}/approve`],
    ] as const) {
      const response = await api(app, method, url, {}, method === 'POST' ? json({}) : undefined)
      assertJsonError(response, 401)
      assert.match(String(response.headers['www-authenticate']), /^Bearer/)
    }
    assert.equal((await applicationState(pending)).state, 'applied')
  })

  await t.test('/admin/api/* with a bogus Bearer token → 401 JSON', async () => {
    for (const authorization of ['Bearer not-a-token', `Bearer ${adminToken.slice(0, -2)}xx`, 'Bearer ']) {
      const get = await api(app, 'GET', '/admin/api/applications', { authorization })
      assertJsonError(get, 401)
      const post = await api(app, 'POST', `/admin/api/applications/${pending}/approve`, { authorization }, json({}))
      assertJsonError(post, 401)
    }
    assert.equal((await applicationState(pending)).state, 'applied')
  })

  await t.test('/admin/api/* with the API token of a non-administrator → 401 JSON', async () => {
    const { token } = await createAdminToken(db, owner.userId)
    assertJsonError(await api(app, 'POST', `/admin/api/applications/${pending}/approve`, { token }, json({})), 401)
    assert.equal((await applicationState(pending)).state, 'applied')
  })
})

// ---------------------------------------------------------------- CSRF

test('console and administration forms without a csrf_token → 403, nothing changed', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'csrf-owner')
  const other = await person(app, 'csrf-other')
  const admin = await person(app, 'csrf-admin', { admin: true })
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')
  await approvePermissions(db, channelId, ['phone']) // as `plusid channel permit` does
  const original = await channelRow(channelId)

  const consolePosts: [string, string, Record<string, string>, () => Promise<void>][] = [
    [
      'create a provider',
      '/console/providers',
      { name: 'CSRF provider' },
      async () =>
        assert.equal(await db.selectFrom('providers').select('id').where('name', '=', 'CSRF provider').executeTakeFirst(), undefined),
    ],
    [
      'create a channel',
      `/console/providers/${providerId}/channels`,
      { ...CHANNEL_FIELDS, name: 'CSRF channel' },
      async () => assert.equal(await channelCount(providerId), 1),
    ],
    [
      'add a member',
      `/console/providers/${providerId}/members`,
      { email: other.email, role: 'owner' },
      async () => assert.equal(await membership(providerId, other.userId), undefined),
    ],
    [
      'edit the settings',
      `/console/channels/${channelId}`,
      { ...CHANNEL_FIELDS, name: 'CSRF rename' },
      async () => assert.equal((await channelRow(channelId)).name, original.name),
    ],
    [
      'reissue the secret',
      `/console/channels/${channelId}/secret`,
      {},
      async () => assert.deepEqual((await channelRow(channelId)).secret_hash, original.secret_hash),
    ],
    ['publish', `/console/channels/${channelId}/publish`, {}, async () => assert.equal((await channelRow(channelId)).status, 'developing')],
    [
      'add a tester',
      `/console/channels/${channelId}/testers`,
      { email: other.email },
      async () => assert.equal(await countRows('channel_testers', channelId), 0),
    ],
    [
      'apply for an item',
      `/console/channels/${channelId}/applications`,
      applicationFields('gender'),
      async () => assert.equal(await permissionState(channelId, 'gender'), undefined),
    ],
  ]
  for (const [what, url, fields, unchanged] of consolePosts) {
    await t.test(`console: ${what} without csrf_token → 403`, async () => {
      const response = await postWithoutCsrf(owner.browser, url, fields)
      assertStatus(response, 403, `${what} without csrf_token`)
      assert.match(response.body, /This form has expired/)
      await unchanged()
    })
  }

  const adminPosts: [string, string, Record<string, string>, () => Promise<void>][] = [
    [
      'approve',
      `/admin/applications/${applicationId}/approve`,
      {},
      async () => assert.equal((await applicationState(applicationId)).state, 'applied'),
    ],
    [
      'reject',
      `/admin/applications/${applicationId}/reject`,
      { reason: 'forged' },
      async () => assert.equal((await applicationState(applicationId)).state, 'applied'),
    ],
    [
      'suspend a channel',
      `/admin/channels/${channelId}/suspend`,
      { reason: 'forged' },
      async () => assert.equal((await channelRow(channelId)).suspended_at, null),
    ],
    [
      'suspend a permission',
      `/admin/channels/${channelId}/permissions/phone/suspend`,
      { reason: 'forged' },
      async () => assert.equal(await permissionState(channelId, 'phone'), 'approved'),
    ],
  ]
  for (const [what, url, fields, unchanged] of adminPosts) {
    await t.test(`admin: ${what} without csrf_token → 403`, async () => {
      const response = await postWithoutCsrf(admin.browser, url, fields)
      assertStatus(response, 403, `${what} without csrf_token`)
      assert.match(response.body, /This form has expired/)
      await unchanged()
    })
  }

  await t.test('a forged csrf_token → 403 as well', async () => {
    const response = await post(admin.browser, `/admin/applications/${applicationId}/approve`, { csrf_token: 'forged-token' })
    assertStatus(response, 403, 'approval with a forged token')
    assert.equal((await applicationState(applicationId)).state, 'applied')
    const edit = await post(owner.browser, `/console/channels/${channelId}`, {
      ...CHANNEL_FIELDS,
      name: 'CSRF rename',
      csrf_token: 'forged-token',
    })
    assertStatus(edit, 403, 'settings edit with a forged token')
    assert.equal((await channelRow(channelId)).name, original.name)
  })

  await t.test('the console form with its csrf_token is accepted (control)', async () => {
    await owner.browser.get(`/console/channels/${channelId}`)
    const edit = await post(owner.browser, `/console/channels/${channelId}`, { ...CHANNEL_FIELDS, name: 'Renamed with a token' })
    assertStatus(edit, 303, 'settings edit with the token')
    assert.equal((await channelRow(channelId)).name, 'Renamed with a token')
  })
})

// ---------------------------------------------------------------- admin API: session and errors

test('the admin API with an administrator\u2019s session refuses bodies that are not JSON (415)', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'json-owner')
  const admin = await person(app, 'json-admin', { admin: true })
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')

  const nonJson = [
    ['application/x-www-form-urlencoded', 'reason=x'],
    ['text/plain', '{}'],
    ['multipart/form-data; boundary=x', '--x--\r\n'],
  ] as const
  for (const [type, payload] of nonJson) {
    await t.test(`POST with Content-Type ${type.split(';')[0]} → 415 JSON, nothing changed`, async () => {
      const response = await api(
        app,
        'POST',
        `/admin/api/applications/${applicationId}/approve`,
        { browser: admin.browser },
        { type, payload },
      )
      assertJsonError(response, 415)
      assert.deepEqual(await applicationState(applicationId), { state: 'applied', reviewer_id: null })
    })
  }

  await t.test('POST without a body or content type → 415 JSON, nothing changed', async () => {
    const response = await api(app, 'POST', `/admin/api/applications/${applicationId}/approve`, { browser: admin.browser })
    assertJsonError(response, 415)
    assert.deepEqual(await applicationState(applicationId), { state: 'applied', reviewer_id: null })
  })

  await t.test('GET with the session works', async () => {
    const response = await api(app, 'GET', '/admin/api/applications?state=applied', { browser: admin.browser })
    assertStatus(response, 200, 'GET with the session')
    assert.ok(
      (response.json() as { items: { id: string }[] }).items.some((item) => item.id === applicationId),
      'the application is in the queue',
    )
  })
})

test('admin API errors are JSON {error, message}', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'err-owner')
  const admin = await person(app, 'err-admin', { admin: true })
  const { token } = await createAdminToken(db, admin.userId)
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')

  await t.test('approving an unknown application → 404 JSON', async () => {
    assertJsonError(await api(app, 'POST', `/admin/api/applications/${randomUUID()}/approve`, { token }, json({})), 404, 'not_found')
    assertJsonError(await api(app, 'POST', '/admin/api/applications/not-an-id/approve', { token }, json({})), 404, 'not_found')
  })

  await t.test('rejecting an unknown application → 404 JSON', async () => {
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${randomUUID()}/reject`, { token }, json({ reason: 'no' })),
      404,
      'not_found',
    )
  })

  await t.test('reading an unknown application → 404 JSON', async () => {
    assertJsonError(await api(app, 'GET', `/admin/api/applications/${randomUUID()}`, { token }), 404, 'not_found')
  })

  await t.test('an unknown endpoint → 404 JSON', async () => {
    assertJsonError(await api(app, 'GET', '/admin/api/no-such-thing', { token }), 404)
  })

  await t.test('rejecting without a reason → 400 JSON, still applied', async () => {
    assertJsonError(await api(app, 'POST', `/admin/api/applications/${applicationId}/reject`, { token }, json({})), 400, 'invalid_request')
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${applicationId}/reject`, { token }, json({ reason: '   ' })),
      400,
      'invalid_request',
    )
    assert.deepEqual(await applicationState(applicationId), { state: 'applied', reviewer_id: null })
  })

  await t.test('suspending a channel without a reason → 400 JSON, not suspended', async () => {
    assertJsonError(await api(app, 'POST', `/admin/api/channels/${channelId}/suspend`, { token }, json({})), 400, 'invalid_request')
    assert.equal((await channelRow(channelId)).suspended_at, null)
  })

  await t.test('suspending an unknown channel → 404 JSON', async () => {
    assertJsonError(
      await api(app, 'POST', '/admin/api/channels/0000000001/suspend', { token }, json({ reason: 'abuse' })),
      404,
      'not_found',
    )
  })
})

// ---------------------------------------------------------------- reviews that go through
// These tests reach the review transaction (reviewApplication, suspendPermission, suspendChannel),
// so they come last: if it hangs, the tests above have already given their results.

test('an administrator who belongs to the channel\u2019s provider cannot review or suspend it; another administrator can', async (t) => {
  const app = await build(t)
  const memberAdmin = await person(app, 'self-owner-admin', { admin: true })
  const developerAdmin = await person(app, 'self-dev-admin', { admin: true })
  const otherAdmin = await person(app, 'self-other-admin', { admin: true })
  const providerId = await createProvider(memberAdmin)
  const channelId = await createChannel(memberAdmin, providerId)
  await addMember(memberAdmin, providerId, developerAdmin, 'developer')
  const email = await apply(memberAdmin, channelId, 'email')
  const phone = await apply(memberAdmin, channelId, 'phone')
  const { token: memberToken } = await createAdminToken(db, memberAdmin.userId)
  const { token: developerToken } = await createAdminToken(db, developerAdmin.userId)
  const { token: otherToken } = await createAdminToken(db, otherAdmin.userId)

  await t.test('approving its own channel\u2019s application (HTML) → 403, still applied', async () => {
    const queue = await memberAdmin.browser.get('/admin')
    assertStatus(queue, 200, 'the review queue')
    const response = await post(memberAdmin.browser, `/admin/applications/${email}/approve`, {})
    assertStatus(response, 403, 'self-approval')
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
    assert.equal(await permissionState(channelId, 'email'), 'applied')
  })

  await t.test('rejecting its own channel\u2019s application (HTML) → 403, still applied', async () => {
    await memberAdmin.browser.get('/admin')
    const response = await post(memberAdmin.browser, `/admin/applications/${email}/reject`, { reason: 'I reject my own' })
    assertStatus(response, 403, 'self-rejection')
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
  })

  await t.test('approving through the API with its own token → 403 JSON, still applied', async () => {
    assertJsonError(await api(app, 'POST', `/admin/api/applications/${email}/approve`, { token: memberToken }, json({})), 403, 'forbidden')
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
    assert.equal(await permissionState(channelId, 'email'), 'applied')
  })

  await t.test('rejecting through the API with its own token → 403 JSON, still applied', async () => {
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${email}/reject`, { token: memberToken }, json({ reason: 'mine' })),
      403,
      'forbidden',
    )
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
  })

  await t.test('approving through the API with its own session (JSON) → 403 JSON, still applied', async () => {
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${email}/approve`, { browser: memberAdmin.browser }, json({})),
      403,
      'forbidden',
    )
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
  })

  await t.test('an administrator who is a developer of the provider → 403 as well (HTML and API)', async () => {
    await developerAdmin.browser.get('/admin')
    assertStatus(await post(developerAdmin.browser, `/admin/applications/${email}/approve`, {}), 403, 'developer-member approving (HTML)')
    assertJsonError(
      await api(app, 'POST', `/admin/api/applications/${email}/approve`, { token: developerToken }, json({})),
      403,
      'forbidden',
    )
    assert.deepEqual(await applicationState(email), { state: 'applied', reviewer_id: null })
  })

  await t.test('another administrator approves it (HTML) → 303, approved', async () => {
    await otherAdmin.browser.get('/admin')
    const response = await post(otherAdmin.browser, `/admin/applications/${email}/approve`, {})
    assertStatus(response, 303, 'approval by another administrator')
    assert.deepEqual(await applicationState(email), { state: 'approved', reviewer_id: otherAdmin.userId })
    assert.equal(await permissionState(channelId, 'email'), 'approved')
  })

  await t.test('another administrator approves through the API → 200, approved', async () => {
    const response = await api(app, 'POST', `/admin/api/applications/${phone}/approve`, { token: otherToken }, json({}))
    assertStatus(response, 200, 'API approval by another administrator')
    assert.deepEqual(await applicationState(phone), { state: 'approved', reviewer_id: otherAdmin.userId })
  })

  await t.test('suspending its own channel\u2019s permission → 403 (HTML and API), still approved', async () => {
    await memberAdmin.browser.get(`/admin/channels/${channelId}`)
    assertStatus(
      await post(memberAdmin.browser, `/admin/channels/${channelId}/permissions/email/suspend`, { reason: 'mine' }),
      403,
      'self-suspension of a permission (HTML)',
    )
    assertJsonError(
      await api(
        app,
        'POST',
        `/admin/api/channels/${channelId}/permissions/email/suspend`,
        { token: memberToken },
        json({ reason: 'mine' }),
      ),
      403,
      'forbidden',
    )
    assert.equal(await permissionState(channelId, 'email'), 'approved')
  })

  await t.test('suspending (or lifting the suspension of) its own channel → 403 (HTML and API), not suspended', async () => {
    await memberAdmin.browser.get(`/admin/channels/${channelId}`)
    assertStatus(
      await post(memberAdmin.browser, `/admin/channels/${channelId}/suspend`, { reason: 'mine' }),
      403,
      'self-suspension of the channel (HTML)',
    )
    assertJsonError(
      await api(app, 'POST', `/admin/api/channels/${channelId}/suspend`, { token: memberToken }, json({ reason: 'mine' })),
      403,
      'forbidden',
    )
    assert.equal((await channelRow(channelId)).suspended_at, null)
    // Suspended by another administrator, the member cannot lift it either.
    assertStatus(
      await api(app, 'POST', `/admin/api/channels/${channelId}/suspend`, { token: otherToken }, json({ reason: 'abuse' })),
      200,
      'suspension by another administrator',
    )
    assertJsonError(
      await api(app, 'POST', `/admin/api/channels/${channelId}/unsuspend`, { token: memberToken }, json({})),
      403,
      'forbidden',
    )
    await memberAdmin.browser.get(`/admin/channels/${channelId}`)
    assertStatus(await post(memberAdmin.browser, `/admin/channels/${channelId}/unsuspend`, {}), 403, 'self-unsuspension (HTML)')
    assert.notEqual((await channelRow(channelId)).suspended_at, null)
  })
})

test('the admin API with an administrator\u2019s session works with a JSON body', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'json-ok-owner')
  const admin = await person(app, 'json-ok-admin', { admin: true })
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')
  const response = await api(app, 'POST', `/admin/api/applications/${applicationId}/approve`, { browser: admin.browser }, json({}))
  assertStatus(response, 200, 'approval with a JSON body')
  assert.deepEqual(await applicationState(applicationId), { state: 'approved', reviewer_id: admin.userId })
  assert.equal(await permissionState(channelId, 'email'), 'approved')
})

test('an administrator\u2019s HTML approval with its csrf_token is accepted (control of the CSRF tests)', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'csrf-ok-owner')
  const admin = await person(app, 'csrf-ok-admin', { admin: true })
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')
  const refused = await postWithoutCsrf(admin.browser, `/admin/applications/${applicationId}/approve`)
  assertStatus(refused, 403, 'approval without the token')
  await admin.browser.get('/admin')
  const approve = await post(admin.browser, `/admin/applications/${applicationId}/approve`, {})
  assertStatus(approve, 303, 'approval with the token')
  assert.equal((await applicationState(applicationId)).state, 'approved')
})

test('admin API: a decided application cannot be decided again (409 JSON)', async (t) => {
  const app = await build(t)
  const owner = await person(app, 'decided-owner')
  const admin = await person(app, 'decided-admin', { admin: true })
  const { token } = await createAdminToken(db, admin.userId)
  const providerId = await createProvider(owner)
  const channelId = await createChannel(owner, providerId)
  const applicationId = await apply(owner, channelId, 'email')
  assertStatus(
    await api(app, 'POST', `/admin/api/applications/${applicationId}/reject`, { token }, json({ reason: 'policy missing' })),
    200,
    'rejection',
  )
  assert.deepEqual(await applicationState(applicationId), { state: 'rejected', reviewer_id: admin.userId })
  assertJsonError(await api(app, 'POST', `/admin/api/applications/${applicationId}/approve`, { token }, json({})), 409)
  assert.equal((await applicationState(applicationId)).state, 'rejected')
})

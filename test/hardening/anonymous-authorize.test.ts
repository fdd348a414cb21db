// Issue 13 item 4: anybody can start an authorization without logging in, and each stores an
// interaction. 1,000 anonymous authorizations in a minute from one address get 429s after the
// per-IP limit (ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE), and store nothing more; a logged-in
// user's authorize is not counted (and keeps its round trips, test/oauth/hot-paths.test.ts); what
// an anonymous one stores is small and deleted soon after it expires.
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'
import { deleteExpiredRows } from '../../src/maintenance.ts'
import { MAX_STORED_REQUEST_BYTES } from '../../src/routes/authorize.ts'

const db = (await testDatabase()).db
const interactionsOf = async (channelId: string) =>
  (await db.selectFrom('interactions').select('id').where('channel_id', '=', channelId).execute()).length
const authorizeUrl = (channel: { channelId: string; redirectUri: string }, extra: Record<string, string> = {}) =>
  `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channel.channelId, redirect_uri: channel.redirectUri, scope: 'openid profile', state: 's', ...extra })}`

test('1,000 anonymous authorizations in a minute from one address: 429 after the limit, nothing more stored', async (t) => {
  const app = await build(t, { ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE: '120' })
  const channel = await createTestChannel()
  const ip = `192.0.2.${randomInt(1, 255)}`
  const statuses = new Map<number, number>()
  let firstRefused = -1
  for (let i = 0; i < 1000; i++) {
    const response = await app.inject({ url: authorizeUrl(channel, { state: `s${i}` }), remoteAddress: ip })
    statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1)
    if (response.statusCode === 429 && firstRefused < 0) {
      firstRefused = i
      assert.ok(Number(response.headers['retry-after']) >= 1)
      assert.match(response.body, /Too many attempts|too many/i)
    }
  }
  assert.equal(firstRefused, 120)
  assert.deepEqual(Object.fromEntries(statuses), { 303: 120, 429: 880 })
  assert.equal(await interactionsOf(channel.channelId), 120, 'only the allowed ones stored an interaction')
  // Another address is not affected.
  assert.equal((await app.inject({ url: authorizeUrl(channel), remoteAddress: '198.51.100.7' })).statusCode, 303)
})

test('a logged-in user\u2019s authorize is not counted against the anonymous limit', async (t) => {
  const app = await build(t, { ANONYMOUS_AUTHORIZATIONS_PER_IP_PER_MINUTE: '2' })
  const channel = await createTestChannel()
  const browser = new Browser(app)
  await registerUser(browser)
  const ip = `192.0.2.${randomInt(1, 255)}`
  for (let i = 0; i < 5; i++) {
    const response = await app.inject({
      url: authorizeUrl(channel, { prompt: 'consent' }),
      remoteAddress: ip,
      headers: { cookie: browser.cookieHeader() },
    })
    assert.equal(response.statusCode, 303, `logged-in authorize ${i}`)
  }
  const anonymous = []
  for (let i = 0; i < 3; i++) anonymous.push((await app.inject({ url: authorizeUrl(channel), remoteAddress: ip })).statusCode)
  assert.deepEqual(anonymous, [303, 303, 429])
})

test('what an anonymous authorize stores is bounded in size and deleted an hour after it expires', async (t) => {
  const app = await build(t)
  const channel = await createTestChannel()
  const big = { state: 's'.repeat(2048), nonce: 'n'.repeat(2048), login_hint: `${'h'.repeat(300)}@example.com`, ui_locales: 'ja en' }
  const response = await app.inject({ url: authorizeUrl(channel, big), remoteAddress: '192.0.2.200' })
  assert.equal(response.statusCode, 303)
  const sizes = await db
    .selectFrom('interactions')
    .select((eb) => eb.fn<number>('octet_length', [eb.cast('request', 'text')]).as('size'))
    .where('channel_id', '=', channel.channelId)
    .execute()
  assert.equal(sizes.length, 1)
  assert.ok(Number(sizes[0]!.size) < MAX_STORED_REQUEST_BYTES, `stored ${sizes[0]!.size} bytes`)

  // One anonymous and one that a user logged in to, both expired 2 hours ago.
  const logged = await createTestChannel()
  const browser = new Browser(app)
  await registerUser(browser)
  await app.inject({ url: authorizeUrl(logged, { prompt: 'consent' }), headers: { cookie: browser.cookieHeader() } })
  const user = await db.selectFrom('sessions').select('user_id').orderBy('created_at', 'desc').executeTakeFirstOrThrow()
  await db.updateTable('interactions').set({ user_id: user.user_id }).where('channel_id', '=', logged.channelId).execute()
  const twoHoursAgo = new Date(Date.now() - 2 * 3600 * 1000)
  await db
    .updateTable('interactions')
    .set({ expires_at: twoHoursAgo })
    .where('channel_id', 'in', [channel.channelId, logged.channelId])
    .execute()
  await deleteExpiredRows(db, new Date(), { usedCodeSeconds: 60 })
  assert.equal(await interactionsOf(channel.channelId), 0, 'the anonymous one is gone')
  assert.equal(await interactionsOf(logged.channelId), 1, 'the logged-in one stays a day, for the "expired" page')
})

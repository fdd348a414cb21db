// OWASP ASVS 5 V6 (authentication: brute force) and RFC 6819 §5.1.4.2.3 / §4.4.1.3: account
// lockout with progressive delays, and per-IP limits on login, registration and failed token
// requests, counted in PostgreSQL so every process sees the same numbers.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'

const database = await testDatabase()
const accountKey = (email: string) => `account:${keyring().emailHmac(email).toString('hex')}`

async function attempt(app: FastifyInstance, email: string, password: string) {
  const browser = new Browser(app)
  await browser.get('/login')
  return browser.post('/login', { email, password })
}
const strip = (html: string) => html.replace(/value="[^"]*"/g, '')
// Every request of this file comes from 127.0.0.1: each test starts with fresh counters.
const resetCounters = () => database.db.deleteFrom('rate_limits').execute()

test('after 5 failures an account waits before the next try; the right password too', async (t) => {
  await resetCounters()
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  for (let i = 0; i < 5; i++) assert.equal((await attempt(app, account.email, 'wrong password')).statusCode, 401)
  const early = await attempt(app, account.email, account.password)
  assert.equal(early.statusCode, 401, 'within the delay even the right password fails')
  await new Promise((resolve) => setTimeout(resolve, 1100))
  assert.equal((await attempt(app, account.email, account.password)).statusCode, 303, 'after the delay it works')
  const row = await database.db.selectFrom('rate_limits').select('count').where('key', '=', accountKey(account.email)).executeTakeFirst()
  assert.equal(row, undefined, 'a success clears the count')
})

test('after 10 failures the account is locked, and a locked account answers exactly like an unknown one', async (t) => {
  await resetCounters()
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  const unknown = uniqueEmail('ghost')
  // Nine failures already counted (waiting out the delays would take half a minute).
  for (const email of [account.email, unknown]) {
    await database.db.insertInto('rate_limits').values({ key: accountKey(email), count: 9, window_start: new Date() }).execute()
    assert.equal((await attempt(app, email, 'wrong password')).statusCode, 401)
    const row = await database.db.selectFrom('rate_limits').select(['count', 'blocked_until']).where('key', '=', accountKey(email)).executeTakeFirstOrThrow()
    assert.equal(row.count, 10)
    assert.ok(row.blocked_until!.getTime() > Date.now() + 14 * 60 * 1000, 'locked for 15 minutes')
  }
  const locked = await attempt(app, account.email, account.password)
  const ghost = await attempt(app, unknown, account.password)
  assert.equal(locked.statusCode, 401, 'the right password is refused while locked')
  assert.equal(ghost.statusCode, 401)
  assert.equal(strip(locked.body), strip(ghost.body), 'same page')
  assert.deepEqual(Object.keys(locked.headers).sort(), Object.keys(ghost.headers).sort(), 'same headers')
})

test('logins per IP: over the limit, 429 with Retry-After, and no password is checked', async (t) => {
  await resetCounters()
  const app = await build(t, { LOGINS_PER_IP_PER_MINUTE: '3' })
  const account = await registerUser(new Browser(app))
  for (let i = 0; i < 3; i++) assert.equal((await attempt(app, account.email, 'wrong password')).statusCode, 401)
  const limited = await attempt(app, account.email, account.password)
  assert.equal(limited.statusCode, 429)
  assert.match(String(limited.headers['retry-after']), /^\d+$/)
  assert.ok(Number(limited.headers['retry-after']) <= 60)
  assert.match(limited.body, /Too many attempts/)
})

test('registrations per IP: over the limit, 429 and no account', async (t) => {
  await resetCounters()
  const app = await build(t, { REGISTRATIONS_PER_IP_PER_HOUR: '2' })
  await registerUser(new Browser(app))
  await registerUser(new Browser(app))
  const email = uniqueEmail('limited')
  const third = await new Browser(app).submit('/register', '/register', { email, password: 'a long password', name: 'X' })
  assert.equal(third.statusCode, 429)
  assert.equal((await database.db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).execute()).length, 0)
})

test('failed token requests per IP: once over the limit, even a valid request gets 429 until the window ends', async (t) => {
  await resetCounters()
  const app = await build(t, { TOKEN_FAILURES_PER_IP_PER_MINUTE: '3' })
  const channel = await createTestChannel()
  const request = (secret: string) =>
    app.inject({
      method: 'POST',
      url: '/oauth2/v3/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: channel.channelId, client_secret: secret }).toString(),
    })
  const token = (fields: Record<string, string>) =>
    app.inject({ method: 'POST', url: '/oauth2/v2.1/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(fields).toString() })
  for (let i = 0; i < 4; i++) {
    const failed = await token({ grant_type: 'authorization_code', code: 'guess' + i, redirect_uri: channel.redirectUri, client_id: channel.channelId, client_secret: channel.secret! })
    assert.equal(failed.statusCode, 400, `failure ${i + 1}`)
  }
  const blocked = await token({ grant_type: 'refresh_token', refresh_token: 'x', client_id: channel.channelId, client_secret: channel.secret! })
  assert.equal(blocked.statusCode, 429)
  assert.match(String(blocked.headers['retry-after']), /^\d+$/)
  assert.equal(blocked.headers['cache-control'], 'no-store')
  assert.equal((await request(channel.secret!)).statusCode, 200, 'other endpoints are not affected')
})

test('concurrent login attempts on two app instances are counted exactly', async (t) => {
  await resetCounters()
  const one = await build(t, { LOGINS_PER_IP_PER_MINUTE: '10' })
  const two = await build(t, { LOGINS_PER_IP_PER_MINUTE: '10' })
  const browsers = await Promise.all(Array.from({ length: 20 }, async (_, i) => {
    const browser = new Browser(i % 2 ? one : two)
    await browser.get('/login')
    return browser
  }))
  const statuses = await Promise.all(browsers.map((browser) => browser.post('/login', { email: uniqueEmail('race'), password: 'whatever password' }).then((r) => r.statusCode)))
  assert.equal(statuses.filter((s) => s === 429).length, 10, statuses.join(','))
})

// Issue 13 item 3, README, Security (Sessions): besides the sliding lifetime, a session has an absolute
// one (SESSION_MAX_AGE_SECONDS, default 30 days) counted from the login that created it. A session
// used every day is extended, but never past that end; an old one must log in again.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { loadConfig } from '../../src/config.ts'

const db = (await testDatabase()).db
const DAY = 24 * 3600 * 1000

async function sessionOf(email: string) {
  const user = await db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).executeTakeFirstOrThrow()
  return db.selectFrom('sessions').selectAll().where('user_id', '=', user.id).executeTakeFirstOrThrow()
}

test('SESSION_MAX_AGE_SECONDS defaults to 30 days and is validated', () => {
  assert.equal(loadConfig({}).sessionMaxAgeSeconds, 30 * 24 * 3600)
  assert.throws(() => loadConfig({ SESSION_MAX_AGE_SECONDS: 'forever' }), /SESSION_MAX_AGE_SECONDS must be a whole number/)
})

test('a session older than SESSION_MAX_AGE_SECONDS must log in again, however recently it was used', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const account = await registerUser(browser)
  assert.equal((await browser.get('/account')).statusCode, 200)
  const session = await sessionOf(account.email)
  // A 400-day-old login, used a minute ago and not expired by the sliding rule: still refused.
  await db
    .updateTable('sessions')
    .set({
      created_at: new Date(Date.now() - 400 * DAY),
      auth_time: new Date(Date.now() - 400 * DAY),
      last_seen_at: new Date(Date.now() - 60_000),
      expires_at: new Date(Date.now() + 10 * DAY),
    })
    .where('id', '=', session.id)
    .execute()
  const old = await browser.get('/account')
  assert.equal(old.statusCode, 303)
  assert.match(String(old.headers.location), /^\/login/)
  assert.equal(
    await db.selectFrom('sessions').select('id').where('id', '=', session.id).executeTakeFirst(),
    undefined,
    'the old session row is deleted',
  )
  // Just past 30 days, too.
  const again = new Browser(app)
  const second = await registerUser(again)
  const row = await sessionOf(second.email)
  await db
    .updateTable('sessions')
    .set({ created_at: new Date(Date.now() - 30 * DAY - 1000), expires_at: new Date(Date.now() + 10 * DAY) })
    .where('id', '=', row.id)
    .execute()
  assert.equal((await again.get('/account')).statusCode, 303)
})

test('a session used in its second half is extended, but never past its absolute end', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const account = await registerUser(browser)
  const session = await sessionOf(account.email)
  const createdAt = new Date(Date.now() - 25 * DAY)
  await db
    .updateTable('sessions')
    .set({ created_at: createdAt, last_seen_at: new Date(Date.now() - DAY), expires_at: new Date(Date.now() + 2 * DAY) })
    .where('id', '=', session.id)
    .execute()
  const page = await browser.get('/account')
  assert.equal(page.statusCode, 200)
  const after = await sessionOf(account.email)
  const end = createdAt.getTime() + 30 * DAY
  assert.ok(after.expires_at.getTime() <= end, `extended to ${after.expires_at.toISOString()}, past ${new Date(end).toISOString()}`)
  assert.ok(after.expires_at.getTime() > Date.now() + 2 * DAY, 'it was extended')
  const cookie = (page.cookies as { name: string; expires?: Date }[]).find((c) => c.name.includes('plusid_session'))
  assert.ok(cookie?.expires && cookie.expires.getTime() <= end + 1000, 'the cookie ends with the session')
})

test('a shorter SESSION_MAX_AGE_SECONDS bounds a new session too', async (t) => {
  const app = await build(t, { SESSION_MAX_AGE_SECONDS: '600' })
  const browser = new Browser(app)
  const account = await registerUser(browser)
  const session = await sessionOf(account.email)
  assert.ok(session.expires_at.getTime() <= session.created_at.getTime() + 600_000 + 5_000)
})

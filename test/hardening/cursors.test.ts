// Issue 13 item 5: a pagination cursor this server did not issue gets 400 — a page in the user's
// language on the administration pages, a JSON error on the admin API — never a 500, and never
// silently the first page.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { keyring } from '../../src/crypto/keyring.ts'
import { createAdminToken } from '../../src/storage/admin-tokens.ts'

const db = (await testDatabase()).db
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url')

// What an attacker tries: garbage, JSON of the wrong shape, ids and dates PostgreSQL refuses.
const BAD_CURSORS = [
  '%%%',
  'not-base64-json',
  b64('[]'),
  b64({ createdAt: '2026-01-01T00:00:00Z', id: "'; DROP TABLE users; --" }),
  b64({ createdAt: '2026-01-01T00:00:00Z', id: 'x'.repeat(100) }),
  b64({ createdAt: '+275760-09-13T00:00:00.000Z', id: '00000000-0000-4000-8000-000000000001' }),
  b64({ createdAt: 'yesterday', id: '00000000-0000-4000-8000-000000000001' }),
  b64({ name: 42, id: '1234567890' }),
  'A'.repeat(5000),
]

test('admin pages: a malformed cursor gets a 400 page in the user\u2019s language', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const account = await registerUser(browser)
  await db.updateTable('users').set({ is_admin: true }).where('email_hmac', '=', keyring().emailHmac(account.email)).execute()
  for (const cursor of BAD_CURSORS) {
    for (const path of ['/admin', '/admin/users', '/admin/channels', '/admin/channels?q=a', '/admin/audit']) {
      const param = path === '/admin/audit' ? 'before' : 'after'
      const url = `${path}${path.includes('?') ? '&' : '?'}${param}=${encodeURIComponent(cursor)}`
      const response = await browser.get(url)
      assert.equal(response.statusCode, 400, `${url}: ${response.statusCode} ${response.body.slice(0, 200)}`)
      assert.match(response.headers['content-type'] as string, /text\/html/)
    }
  }
  const english = await browser.get(`/admin/users?after=${b64('[]')}`)
  assert.match(english.body, /This page link is not valid/)
  const japanese = await app.inject({
    url: `/admin/users?after=${b64('[]')}`,
    headers: { cookie: browser.cookieHeader(), 'accept-language': 'ja' },
  })
  assert.equal(japanese.statusCode, 400)
  assert.match(japanese.body, /このページのリンクは正しくありません/)
  // A cursor the server issued still works.
  assert.equal((await browser.get('/admin/users')).statusCode, 200)
})

test('admin API: a malformed cursor gets 400 with a JSON error', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const account = await registerUser(browser)
  const admin = await db
    .updateTable('users')
    .set({ is_admin: true })
    .where('email_hmac', '=', keyring().emailHmac(account.email))
    .returning('id')
    .executeTakeFirstOrThrow()
  const { token } = await createAdminToken(db, admin.id)
  for (const cursor of BAD_CURSORS) {
    for (const path of [
      '/admin/api/applications',
      '/admin/api/users',
      '/admin/api/channels',
      '/admin/api/channels?q=a',
      '/admin/api/audit',
    ]) {
      const url = `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`
      const response = await app.inject({ url, headers: { authorization: `Bearer ${token}` } })
      assert.equal(response.statusCode, 400, `${url}: ${response.statusCode} ${response.body}`)
      const body = response.json() as { error: string; message: string }
      assert.equal(body.error, 'invalid_request')
      assert.match(body.message, /cursor/)
    }
  }
  // The next cursor of a real page is accepted.
  const first = await app.inject({ url: '/admin/api/users', headers: { authorization: `Bearer ${token}` } })
  assert.equal(first.statusCode, 200)
})

// Registration, login, logout and browser sessions through HTTP, on a real database.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { keyring } from '../../src/crypto/keyring.ts'
import { sql } from 'kysely'
import { hash } from '@node-rs/argon2'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { LOGIN_FAILED } from '../../src/routes/accounts.ts'
import { translate } from '../../src/i18n/index.ts'

const database = await testDatabase()

test('registration creates the account, logs the user in and shows the account page', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const email = uniqueEmail('Reg')
  const response = await browser.submit('/register', '/register', { email, password: 'a long password', name: 'Hanako <b>Y</b>' })
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, '/account')
  const account = await browser.get('/account')
  assert.equal(account.statusCode, 200)
  assert.match(account.body, /Hanako &lt;b&gt;Y&lt;\/b&gt;/, 'the display name is shown, HTML-escaped')
  assert.ok(!account.body.includes('<b>Y</b>'))
  const row = await database.db
    .selectFrom('users')
    .selectAll()
    .where('email_hmac', '=', keyring().emailHmac(email))
    .executeTakeFirstOrThrow()
  assert.match(row.password_hash, /^\$argon2id\$v=19\$m=19456,t=2,p=1\$/, 'argon2id at OWASP parameters')
  assert.ok(!row.password_hash.includes('a long password'))
})

test('registration validates every field and keeps what was typed', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  const response = await browser.submit('/register', '/register', { email: 'not-an-email', password: 'short', name: '' })
  assert.equal(response.statusCode, 400)
  assert.match(response.body, /Email must be an email address/)
  assert.match(response.body, /Password must be at least 8 bytes/)
  assert.match(response.body, /Display name is required/)
  assert.match(response.body, /value="not-an-email"/)
  assert.ok(!response.body.includes('value="short"'), 'the password is never sent back')
  assert.match(response.body, /aria-describedby="field-email-error"/)
  assert.equal(browser.cookies.size, 1, 'only the CSRF cookie: no session')
})

test('a duplicate email is refused, whatever its case', async (t) => {
  const app = await build(t)
  const first = await registerUser(new Browser(app))
  const browser = new Browser(app)
  const response = await browser.submit('/register', '/register', {
    email: first.email.toUpperCase(),
    password: 'another password',
    name: 'Other',
  })
  assert.equal(response.statusCode, 409)
  assert.match(response.body, /Email is already registered/)
  const count = await database.db
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('email_hmac', '=', keyring().emailHmac(first.email))
    .executeTakeFirstOrThrow()
  assert.equal(Number(count.n), 1)
})

test('login succeeds with the right password (email case ignored) and sets a strict session cookie', async (t) => {
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  const browser = new Browser(app)
  const response = await browser.submit('/login', '/login', { email: account.email.toUpperCase(), password: account.password })
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, '/account')
  const setCookie = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('plusid_session='))
  assert.ok(setCookie)
  assert.match(setCookie, /HttpOnly/)
  assert.match(setCookie, /SameSite=Lax/)
  assert.match(setCookie, /Path=\//)
  const token = browser.cookies.get('plusid_session')!
  const [id, secret] = token.split('.')
  const row = await database.db.selectFrom('sessions').selectAll().where('id', '=', id!).executeTakeFirstOrThrow()
  assert.equal(Buffer.from(row.secret_hash).length, 32, 'a SHA-256 hash is stored')
  assert.ok(!Buffer.from(row.secret_hash).toString('latin1').includes(secret!), 'the secret itself is not stored')
  assert.equal((await browser.get('/account')).statusCode, 200)
})

test('on https the cookies are __Host- prefixed and Secure, and HSTS is sent', async (t) => {
  const app = await build(t, { PUBLIC_URL: 'https://id.example.com' })
  const browser = new Browser(app)
  const page = await browser.get('/register')
  assert.match(String(page.headers['set-cookie']), /^__Host-plusid_csrf=[^;]+; Path=\/; HttpOnly; Secure; SameSite=Lax/)
  assert.match(String(page.headers['strict-transport-security']), /max-age=31536000/)
  const response = await browser.post('/register', { email: uniqueEmail(), password: 'a long password', name: 'S' })
  assert.equal(response.statusCode, 303)
  const session = [response.headers['set-cookie']].flat().find((c) => c?.startsWith('__Host-plusid_session='))
  assert.ok(session, 'session cookie is __Host- prefixed')
  assert.match(session, /Secure/)
  assert.doesNotMatch(session, /Domain=/)
})

test('login failures with malformed input get the same generic answer', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await browser.get('/login')
  for (const fields of [{ email: 'x'.repeat(400), password: 'p' }, { email: 'a@example.com' }, { email: ['a', 'b'], password: 'p' }]) {
    const response = await browser.post('/login', fields as Record<string, string>)
    assert.equal(response.statusCode, 401)
    assert.ok(response.body.includes(translate('en', LOGIN_FAILED)))
  }
})

test('login re-hashes a password stored with older argon2 parameters', async (t) => {
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  const weak = await hash(account.password, { algorithm: 2, memoryCost: 4096, timeCost: 1, parallelism: 1 })
  await database.db.updateTable('users').set({ password_hash: weak }).where('email_hmac', '=', keyring().emailHmac(account.email)).execute()
  const response = await new Browser(app).submit('/login', '/login', { email: account.email, password: account.password })
  assert.equal(response.statusCode, 303)
  const row = await database.db
    .selectFrom('users')
    .select('password_hash')
    .where('email_hmac', '=', keyring().emailHmac(account.email))
    .executeTakeFirstOrThrow()
  assert.notEqual(row.password_hash, weak)
  assert.match(row.password_hash, /m=19456,t=2,p=1/)
})

test('login returns to a local next page, never to another site', async (t) => {
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  const browser = new Browser(app)
  const page = await browser.get('/login?next=%2Faccount%2Fprofile')
  assert.match(page.body, /name="next" value="\/account\/profile"/)
  const ok = await browser.post('/login', { email: account.email, password: account.password, next: '/account/profile' })
  assert.equal(ok.headers.location, '/account/profile')
  for (const next of ['//evil.example', 'https://evil.example/', '/\\evil.example']) {
    const other = new Browser(app)
    await other.get('/login')
    const response = await other.post('/login', { email: account.email, password: account.password, next })
    assert.equal(response.headers.location, '/account', `next=${next} is ignored`)
  }
})

test('an anonymous visitor is sent to login and back', async (t) => {
  const app = await build(t)
  const response = await new Browser(app).get('/account/profile')
  assert.equal(response.statusCode, 303)
  assert.equal(response.headers.location, '/login?next=%2Faccount%2Fprofile')
})

test('logout ends the session on the server, not only in the browser', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const token = browser.cookies.get('plusid_session')!
  await browser.get('/account')
  const response = await browser.post('/logout', {})
  assert.equal(response.statusCode, 303)
  assert.equal(browser.cookies.get('plusid_session'), undefined, 'the cookie is cleared')
  const replay = await app.inject({ method: 'GET', url: '/account', headers: { cookie: `plusid_session=${token}` } })
  assert.equal(replay.statusCode, 303, 'the old cookie no longer works')
  const rows = await database.db.selectFrom('sessions').select('id').where('id', '=', token.split('.')[0]!).execute()
  assert.equal(rows.length, 0)
})

test('GET /logout asks for confirmation instead of logging out', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const page = await browser.get('/logout')
  assert.equal(page.statusCode, 200)
  assert.match(page.body, /<form method="post" action="\/logout"/)
  assert.equal((await browser.get('/account')).statusCode, 200, 'still logged in')
})

test('an expired session is refused and deleted', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const id = browser.cookies.get('plusid_session')!.split('.')[0]!
  await database.db
    .updateTable('sessions')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('id', '=', id)
    .execute()
  const response = await browser.get('/account')
  assert.equal(response.statusCode, 303)
  assert.match(String(response.headers.location), /^\/login/)
  assert.equal(browser.cookies.get('plusid_session'), undefined, 'the cookie is cleared')
  assert.equal((await database.db.selectFrom('sessions').select('id').where('id', '=', id).execute()).length, 0)
})

test('a session in the second half of its lifetime is extended, with a new cookie expiry', async (t) => {
  const app = await build(t, { SESSION_TTL_SECONDS: '3600' })
  const browser = new Browser(app)
  await registerUser(browser)
  const id = browser.cookies.get('plusid_session')!.split('.')[0]!
  const soon = new Date(Date.now() + 10 * 60 * 1000)
  await database.db.updateTable('sessions').set({ expires_at: soon }).where('id', '=', id).execute()
  const response = await browser.get('/account')
  assert.equal(response.statusCode, 200)
  const cookie = response.cookies.find((c: { name: string }) => c.name === 'plusid_session') as { expires: Date } | undefined
  assert.ok(cookie, 'the cookie is sent again')
  assert.ok(cookie.expires.getTime() > Date.now() + 50 * 60 * 1000)
  const row = await database.db.selectFrom('sessions').select('expires_at').where('id', '=', id).executeTakeFirstOrThrow()
  assert.ok(row.expires_at.getTime() > soon.getTime())
})

test('a forged session secret is refused', async (t) => {
  const app = await build(t)
  const browser = new Browser(app)
  await registerUser(browser)
  const [id] = browser.cookies.get('plusid_session')!.split('.')
  const forged = `${id}.${'A'.repeat(43)}`
  const response = await app.inject({ method: 'GET', url: '/account', headers: { cookie: `plusid_session=${forged}` } })
  assert.equal(response.statusCode, 303)
})

test('a form without a valid CSRF token is refused and changes nothing', async (t) => {
  const app = await build(t)
  const email = uniqueEmail('csrf')
  const browser = new Browser(app)
  await browser.get('/register')
  const validToken = browser.csrfToken()
  const fields = { email, password: 'a long password', name: 'X' }
  const missing = await browser.post('/register', { ...fields, csrf_token: '' })
  assert.equal(missing.statusCode, 403)
  assert.match(missing.body, /This form has expired/)
  const wrong = await browser.post('/register', { ...fields, csrf_token: 'forged-token' })
  assert.equal(wrong.statusCode, 403)
  // A token from another browser (another CSRF secret) does not work either.
  const other = new Browser(app)
  await other.get('/register')
  const foreign = await browser.post('/register', { ...fields, csrf_token: other.csrfToken() })
  assert.equal(foreign.statusCode, 403)
  // Without the CSRF cookie (a cross-site form post from a page that never loaded plusid).
  const noCookie = await app.inject({
    method: 'POST',
    url: '/register',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: new URLSearchParams({ ...fields, csrf_token: validToken }).toString(),
  })
  assert.equal(noCookie.statusCode, 403)
  const rows = await database.db.selectFrom('users').select('id').where('email_hmac', '=', keyring().emailHmac(email)).execute()
  assert.equal(rows.length, 0)

  const loggedIn = new Browser(app)
  await registerUser(loggedIn)
  const logout = await loggedIn.post('/logout', { csrf_token: 'forged' })
  assert.equal(logout.statusCode, 403)
  assert.equal((await loggedIn.get('/account')).statusCode, 200, 'still logged in')
})

test('pages send strict security headers', async (t) => {
  const app = await build(t)
  const response = await app.inject({ method: 'GET', url: '/login' })
  const csp = String(response.headers['content-security-policy'])
  assert.match(csp, /default-src 'none'/)
  assert.match(csp, /object-src 'none'/)
  assert.match(csp, /base-uri 'none'/)
  assert.match(csp, /frame-ancestors 'none'/)
  assert.match(csp, /form-action 'self'/)
  assert.match(csp, /script-src 'none'/)
  assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/)
  assert.equal(response.headers['referrer-policy'], 'no-referrer')
  assert.equal(response.headers['x-frame-options'], 'DENY')
  assert.equal(response.headers['x-content-type-options'], 'nosniff')
  assert.equal(response.headers['cache-control'], 'no-store')
  assert.doesNotMatch(response.body, /<script/)
  const css = /href="(\/static\/plusid\.[0-9a-f]+\.css)"/.exec(response.body)
  assert.ok(css)
  const stylesheet = await app.inject({ method: 'GET', url: css[1]! })
  assert.equal(stylesheet.statusCode, 200)
  assert.match(String(stylesheet.headers['cache-control']), /max-age=31536000, immutable/)
})

test('unknown pages and unreadable bodies get a clear 4xx page, not a 500', async (t) => {
  const app = await build(t)
  const notFound = await app.inject({ method: 'GET', url: '/nope' })
  assert.equal(notFound.statusCode, 404)
  assert.match(notFound.body, /Page not found/)
  // Pages read form bodies only: JSON is an unsupported content type there.
  const json = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'application/json' }, payload: '{bad' })
  assert.equal(json.statusCode, 415)
  const unsupported = await app.inject({ method: 'POST', url: '/login', headers: { 'content-type': 'text/xml' }, payload: '<a/>' })
  assert.equal(unsupported.statusCode, 415)
})

test('healthz answers without the database, readyz checks it', async (t) => {
  const app = await build(t)
  assert.deepEqual((await app.inject({ method: 'GET', url: '/healthz' })).json(), { status: 'ok' })
  const ready = await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal(ready.statusCode, 200)
  assert.deepEqual(ready.json(), { status: 'ready' })
  await sql`SELECT 1`.execute(database.db)
})

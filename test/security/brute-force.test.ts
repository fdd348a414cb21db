// Brute-force resistance. RFC 6749 §10.10 (credential guessing: "the authorization server MUST
// prevent attackers from guessing access tokens, authorization codes, refresh tokens, resource
// owner passwords, and client credentials"), RFC 6819 §4.4.3.6 (online guessing of passwords) and
// §5.1.4.2.3 (lock accounts after failed attempts), OWASP ASVS V6.3 / V2.2 (anti-automation,
// account lockout with progressive delays). One contract suite, run against every counter store
// (lucia's adapter tests): PostgreSQL, and Redis when it answers.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import type { AppOptions } from '../../src/app.ts'
import { ACCOUNT_LOCK_SECONDS, type RateLimitStore } from '../../src/security/rate-limits.ts'
import { emailLookupKey } from '../../src/storage/users.ts'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { testDatabase } from '../helpers/database.ts'
import { freshRedisPrefix, redisSkip, redisUrl } from '../helpers/redis.ts'

const database = await testDatabase()

interface StoreUnderTest {
  name: string
  skip: string | false
  /** What build() needs for an app on this store, with no counters yet (every request here comes from 127.0.0.1). */
  fresh(): Promise<{ env: Record<string, string>; extra: Partial<AppOptions> }>
}

const STORES: StoreUnderTest[] = [
  {
    name: 'PostgreSQL',
    skip: false,
    fresh: async () => {
      await database.db.deleteFrom('rate_limits').execute()
      return { env: {}, extra: {} }
    },
  },
  { name: 'Redis', skip: redisSkip, fresh: async () => ({ env: { REDIS_URL: redisUrl }, extra: { redisKeyPrefix: freshRedisPrefix() } }) },
]

async function attempt(app: FastifyInstance, email: string, password: string) {
  const browser = new Browser(app)
  await browser.get('/login')
  return browser.post('/login', { email, password })
}
const strip = (html: string) => html.replace(/value="[^"]*"/g, '')
const seconds = (n: number) => new Date(Date.now() + n * 1000)

for (const store of STORES) {
  describe(`counters in ${store.name}`, { skip: store.skip }, () => {
    const buildOn = async (t: Parameters<typeof build>[0], env: Record<string, string> = {}) => {
      const setup = await store.fresh()
      const app = await build(t, { ...setup.env, ...env }, setup.extra)
      assert.equal(app.rateLimits.kind, store.name === 'Redis' ? 'redis' : 'postgres')
      return { app, setup }
    }

    test('after 5 failures an account waits before the next try; the right password too', async (t) => {
      const { app } = await buildOn(t)
      const account = await registerUser(new Browser(app))
      for (let i = 0; i < 5; i++) assert.equal((await attempt(app, account.email, 'wrong password')).statusCode, 401)
      const early = await attempt(app, account.email, account.password)
      assert.equal(early.statusCode, 401, 'within the delay even the right password fails')
      await new Promise((resolve) => setTimeout(resolve, 1100))
      assert.equal((await attempt(app, account.email, account.password)).statusCode, 303, 'after the delay it works')
      assert.equal(
        (await app.rateLimits.accountMayTry(emailLookupKey(account.email), new Date())).hasFailures,
        false,
        'a success clears the count',
      )
    })

    test('successful logins are never counted as failures', async (t) => {
      const { app } = await buildOn(t)
      const account = await registerUser(new Browser(app))
      for (let i = 0; i < 7; i++) assert.equal((await attempt(app, account.email, account.password)).statusCode, 303, `login ${i + 1}`)
      assert.equal((await app.rateLimits.accountMayTry(emailLookupKey(account.email), new Date())).hasFailures, false)
    })

    test('after 10 failures the account is locked for 15 minutes, and a locked account answers exactly like an unknown one', async (t) => {
      const { app } = await buildOn(t)
      const account = await registerUser(new Browser(app))
      const unknown = uniqueEmail('ghost')
      for (const email of [account.email, unknown]) {
        // Nine failures already counted, 20 s ago: their delays are over (waiting them out would take half a minute).
        for (let i = 0; i < 9; i++) await app.rateLimits.recordAccountFailure(emailLookupKey(email), seconds(-20))
        assert.equal((await attempt(app, email, 'wrong password')).statusCode, 401)
        const lookup = emailLookupKey(email)
        assert.equal(
          (await app.rateLimits.accountMayTry(lookup, seconds(ACCOUNT_LOCK_SECONDS - 60))).mayTry,
          false,
          'still locked a minute before the end',
        )
        assert.equal((await app.rateLimits.accountMayTry(lookup, seconds(ACCOUNT_LOCK_SECONDS + 1))).mayTry, true, 'free after 15 minutes')
      }
      const locked = await attempt(app, account.email, account.password)
      const ghost = await attempt(app, unknown, account.password)
      assert.equal(locked.statusCode, 401, 'the right password is refused while locked')
      assert.equal(ghost.statusCode, 401)
      assert.equal(strip(locked.body), strip(ghost.body), 'same page')
      assert.deepEqual(Object.keys(locked.headers).sort(), Object.keys(ghost.headers).sort(), 'same headers')
    })

    test('logins per IP: over the limit, 429 with Retry-After, and no password is checked', async (t) => {
      const { app } = await buildOn(t, { LOGINS_PER_IP_PER_MINUTE: '3' })
      const account = await registerUser(new Browser(app))
      for (let i = 0; i < 3; i++) assert.equal((await attempt(app, account.email, 'wrong password')).statusCode, 401)
      const limited = await attempt(app, account.email, account.password)
      assert.equal(limited.statusCode, 429)
      assert.match(String(limited.headers['retry-after']), /^\d+$/)
      assert.ok(Number(limited.headers['retry-after']) >= 1 && Number(limited.headers['retry-after']) <= 60)
      assert.match(limited.body, /Too many attempts/)
    })

    test('registrations per IP: over the limit, 429 and no account', async (t) => {
      const { app } = await buildOn(t, { REGISTRATIONS_PER_IP_PER_HOUR: '2' })
      await registerUser(new Browser(app))
      await registerUser(new Browser(app))
      const email = uniqueEmail('limited')
      const third = await new Browser(app).submit('/register', '/register', { email, password: 'a long password', name: 'X' })
      assert.equal(third.statusCode, 429)
      assert.equal((await database.db.selectFrom('users').select('id').where('email_hmac', '=', emailLookupKey(email)).execute()).length, 0)
    })

    test('failed token requests per IP: once over the limit, even a valid request gets 429 until the window ends', async (t) => {
      const { app } = await buildOn(t, { TOKEN_FAILURES_PER_IP_PER_MINUTE: '3' })
      const channel = await createTestChannel()
      const form = (url: string, fields: Record<string, string>) =>
        app.inject({
          method: 'POST',
          url,
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: new URLSearchParams(fields).toString(),
        })
      for (let i = 0; i < 4; i++) {
        const failed = await form('/oauth2/v2.1/token', {
          grant_type: 'authorization_code',
          code: 'guess' + i,
          redirect_uri: channel.redirectUri,
          client_id: channel.channelId,
          client_secret: channel.secret!,
        })
        assert.equal(failed.statusCode, 400, `failure ${i + 1}`)
      }
      const blocked = await form('/oauth2/v2.1/token', {
        grant_type: 'refresh_token',
        refresh_token: 'x',
        client_id: channel.channelId,
        client_secret: channel.secret!,
      })
      assert.equal(blocked.statusCode, 429)
      assert.match(String(blocked.headers['retry-after']), /^\d+$/)
      assert.equal(blocked.headers['cache-control'], 'no-store')
      const other = await form('/oauth2/v3/token', {
        grant_type: 'client_credentials',
        client_id: channel.channelId,
        client_secret: channel.secret!,
      })
      assert.equal(other.statusCode, 200, 'other endpoints are not affected')
    })

    test('concurrent login attempts on two app instances are counted exactly', async (t) => {
      const setup = await store.fresh()
      const env = { ...setup.env, LOGINS_PER_IP_PER_MINUTE: '10' }
      // Two instances, as two processes would be: with Redis each has its own connection.
      const one = await build(t, env, setup.extra)
      const two = await build(t, env, setup.extra)
      const browsers = await Promise.all(
        Array.from({ length: 20 }, async (_, i) => {
          const browser = new Browser(i % 2 ? one : two)
          await browser.get('/login')
          return browser
        }),
      )
      const statuses = await Promise.all(
        browsers.map((browser) =>
          browser.post('/login', { email: uniqueEmail('race'), password: 'whatever password' }).then((r) => r.statusCode),
        ),
      )
      assert.equal(statuses.filter((s) => s === 429).length, 10, statuses.join(','))
    })

    test('concurrent failures of one account on two instances are each counted once', async (t) => {
      const setup = await store.fresh()
      const stores: RateLimitStore[] = [
        (await build(t, setup.env, setup.extra)).rateLimits,
        (await build(t, setup.env, setup.extra)).rateLimits,
      ]
      const lookup = emailLookupKey(uniqueEmail('target'))
      const counts = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % 2]!.recordAccountFailure(lookup, new Date())))
      assert.deepEqual(
        [...counts].sort((a, b) => a - b),
        Array.from({ length: 20 }, (_, i) => i + 1),
      )
    })

    test('a window that has ended counts from 1 again', async (t) => {
      const { app } = await buildOn(t)
      const limit = { name: 'test-window', max: 2, windowSeconds: 60 }
      assert.deepEqual(await app.rateLimits.hit(limit, '192.0.2.1', new Date()), { count: 1, retryAfter: null })
      await app.rateLimits.hit(limit, '192.0.2.1', new Date())
      const over = await app.rateLimits.hit(limit, '192.0.2.1', new Date())
      assert.equal(over.count, 3)
      assert.ok(over.retryAfter! >= 59 && over.retryAfter! <= 60, String(over.retryAfter))
      assert.equal((await app.rateLimits.hit(limit, '192.0.2.2', new Date())).count, 1, 'another IP has its own count')
      assert.deepEqual(await app.rateLimits.hit(limit, '192.0.2.1', seconds(61)), { count: 1, retryAfter: null })
    })
  })
}

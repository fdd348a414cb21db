// Behaviour while a store plusid depends on is down. RFC 6749 §4.1.2.1 and §5.2
// (temporarily_unavailable: "the authorization server is currently unable to handle the request
// due to a temporary overloading or maintenance"), OWASP ASVS V16 / V7 (error handling: a generic
// message, no stack trace or database text, fail securely). While PostgreSQL is down every
// endpoint answers 503 — JSON temporarily_unavailable on the protocol's endpoints, a redirect with
// it from /authorize once the callback is verified, a plain page elsewhere — never a 500; nothing
// is half-issued; plusid recovers without a restart. Against PostgreSQL (DATABASE_URL set) the
// test runs its own throwaway cluster and stops and starts it; on the embedded database it
// simulates the loss under the app. Redis down: logins and registrations fail closed with 503.
import assert from 'node:assert/strict'
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { after, test, type TestContext } from 'node:test'
import { PGlite } from '@electric-sql/pglite'
import { Kysely, sql } from 'kysely'
import { PGliteDialect } from 'kysely-pglite-dialect'
import pg from 'pg'
import { buildApp } from '../../src/app.ts'
import { registerAccount } from '../../src/auth/accounts.ts'
import { createChannel, NewChannelInput } from '../../src/oauth/channels.ts'
import { KeyStore } from '../../src/oauth/keys.ts'
import { openDatabase, type Database } from '../../src/storage/database.ts'
import { migrate } from '../../src/storage/migrate.ts'
import type { DB } from '../../src/storage/schema.ts'
import { build, TEST_MASTER_KEY, testConfig } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { onServer, testDatabase } from '../helpers/database.ts'
import { authorizeInBrowser, CALLBACK, freePort, WebBrowser } from '../helpers/oidc.ts'

/** What no answer may contain: stack frames, driver or database text. */
const LEAKS = /ECONN|57P0|postgres|pglite|terminat|at \S+ \(|\.ts:\d|node_modules|SELECT|INSERT|relation|stack/i

// ---------- the stores going away ----------

interface Outage {
  down(): Promise<void>
  up(): Promise<void>
  /** The next statement matching `pattern` loses its connection (a crash in the middle of a request). */
  loseConnectionOn(table: 'access_tokens' | 'interactions'): Promise<void>
  restoreStatements(): Promise<void>
}

/** A PostgreSQL cluster of this test alone, in a temporary folder, run as the postgres OS user. */
function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql'
  const versions = fs.existsSync(root) ? fs.readdirSync(root).sort((a, b) => Number(b) - Number(a)) : []
  return versions
    .map((v) => path.join(root, v, 'bin'))
    .find((bin) => fs.existsSync(path.join(bin, 'initdb')) && fs.existsSync(path.join(bin, 'pg_ctl')))
}
const postgresBin = findPostgresBin()

async function throwawayCluster(): Promise<{ url: string; stop(): Promise<void>; start(): Promise<void>; remove(): Promise<void> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'plusid-resilience-'))
  const asRoot = process.getuid?.() === 0
  if (asRoot) execFileSync('chown', ['-R', 'postgres:', dir])
  const run = (tool: string, args: string[]) =>
    execFileSync(
      asRoot ? 'runuser' : path.join(postgresBin!, tool),
      asRoot ? ['-u', 'postgres', '--', path.join(postgresBin!, tool), ...args] : args,
      { cwd: dir, stdio: 'pipe', timeout: 60_000 },
    )
  const data = path.join(dir, 'data')
  run('initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'])
  const port = await freePort()
  const start = async () =>
    void run('pg_ctl', [
      '-D',
      data,
      '-l',
      path.join(dir, 'log'),
      '-w',
      '-t',
      '30',
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      'start',
    ])
  const stop = async () => void run('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop'])
  await start()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    start,
    stop,
    remove: async () => {
      await stop().catch(() => {})
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** A server connection losing itself: the trigger terminates its own backend (57P01), mid-statement. */
async function installConnectionKiller(url: string, table: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  await client.query(`CREATE OR REPLACE FUNCTION test_lose_connection() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN PERFORM pg_terminate_backend(pg_backend_pid()); RETURN NEW; END $$`)
  await client.query(`CREATE TRIGGER test_lose_connection BEFORE INSERT ON ${table} FOR EACH ROW EXECUTE FUNCTION test_lose_connection()`)
  await client.end()
}

async function removeConnectionKillers(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  for (const table of ['access_tokens', 'interactions']) await client.query(`DROP TRIGGER IF EXISTS test_lose_connection ON ${table}`)
  await client.end()
}

async function serverOutage(t: TestContext): Promise<{ database: Database; outage: Outage }> {
  const cluster = await throwawayCluster()
  const database = await openDatabase({ databaseUrl: cluster.url })
  t.after(async () => {
    await database.close()
    await cluster.remove()
  })
  await migrate(database)
  return {
    database,
    outage: {
      down: () => cluster.stop(),
      up: () => cluster.start(),
      loseConnectionOn: (table) => installConnectionKiller(cluster.url, table),
      restoreStatements: () => removeConnectionKillers(cluster.url),
    },
  }
}

/**
 * The embedded database cannot be stopped under a running app, so its query function is wrapped:
 * while "down" every statement fails the way a lost server connection does (SQLSTATE 57P01).
 * ROLLBACK still passes, as a server rolls back a transaction whose connection died.
 */
async function embeddedOutage(): Promise<{ database: Database; outage: Outage }> {
  const pglite = await PGlite.create()
  let failing: ((text: string) => boolean) | null = null
  const lost = () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01', severity: 'FATAL' })
  const flaky = new Proxy(pglite, {
    get(target, property) {
      if (property === 'query') {
        return (text: string, ...rest: unknown[]) => {
          if (failing?.(text) && !/^\s*rollback/i.test(text)) return Promise.reject(lost())
          return (target.query as (...args: unknown[]) => unknown)(text, ...rest)
        }
      }
      const value = Reflect.get(target, property, target)
      return typeof value === 'function' ? value.bind(target) : value
    },
  })
  const db = new Kysely<DB>({ dialect: new PGliteDialect(flaky) })
  const database: Database = {
    kind: 'embedded',
    db,
    watchQueries: () => () => {},
    withRawConnection: (fn) =>
      db.connection().execute(() =>
        fn({
          exec: async (script) => void (await pglite.exec(script)),
          query: async <Row>(text: string, params: unknown[] = []) => (await pglite.query<Row>(text, params)).rows,
        }),
      ),
    close: () => db.destroy(),
  }
  after(() => database.close())
  await migrate(database)
  return {
    database,
    outage: {
      down: async () => void (failing = () => true),
      up: async () => void (failing = null),
      loseConnectionOn: async (table) => {
        const statement = table === 'access_tokens' ? /INSERT INTO access_tokens/i : /insert into "interactions"/i
        failing = (text) => statement.test(text)
      },
      restoreStatements: async () => void (failing = null),
    },
  }
}

// ---------- the flow ----------

async function plusidOn(t: TestContext, database: Database) {
  const port = await freePort()
  const base = `http://127.0.0.1:${port}`
  const app = await buildApp(testConfig({ PUBLIC_URL: base }), {
    database,
    masterKey: TEST_MASTER_KEY,
    keys: await KeyStore.open(database.db, TEST_MASTER_KEY),
  })
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port })
  const input = NewChannelInput.parse({ name: 'Resilient Shop', callbackUrls: [CALLBACK], publish: true })
  const { channelId, channelSecret } = await createChannel(database.db, TEST_MASTER_KEY, input)
  const account = { email: uniqueEmail('outage'), password: 'outage password 123', name: 'Hanako' }
  const registration = await registerAccount(database.db, { email: account.email, password: account.password, displayName: account.name })
  assert.ok(registration.ok)
  const user = { ...account, userId: registration.user.id }
  const authorizationUrl = (state: string) =>
    `${base}/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channelId, redirect_uri: CALLBACK, scope: 'openid profile', state })}`
  const form = (endpoint: string, fields: Record<string, string>) =>
    fetch(`${base}${endpoint}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    })
  const redeem = (code: string) =>
    form('/oauth2/v2.1/token', {
      grant_type: 'authorization_code',
      code,
      redirect_uri: CALLBACK,
      client_id: channelId,
      client_secret: channelSecret!,
    })
  const codeFrom = (callback: URL) => {
    assert.equal(callback.origin + callback.pathname, CALLBACK)
    return callback.searchParams.get('code')!
  }
  return { app, base, user, authorizationUrl, form, redeem, codeFrom, channelId, secret: channelSecret! }
}

async function assertUnavailable(response: Response, shape: 'json' | 'html', what: string) {
  const body = await response.text()
  assert.equal(response.status, 503, `${what}: ${response.status} ${body.slice(0, 300)}`)
  assert.ok(!LEAKS.test(body), `${what} leaks internals: ${body.slice(0, 500)}`)
  if (shape === 'json') {
    assert.equal(JSON.parse(body).error, 'temporarily_unavailable', what)
    assert.equal(response.headers.get('cache-control'), 'no-store', what)
  } else {
    assert.match(response.headers.get('content-type') ?? '', /^text\/html/, what)
    assert.match(body, /temporarily unavailable/i, what)
  }
  assert.match(response.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`)
}

async function waitUntilReady(base: string) {
  for (let i = 0; i < 100; i++) {
    if ((await fetch(`${base}/readyz`)).status === 200) return
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  assert.fail('plusid did not become ready again after the database came back')
}

interface Tokens {
  access_token: string
}

async function outageScenario(t: TestContext, database: Database, outage: Outage) {
  const plusid = await plusidOn(t, database)
  const { base, user } = plusid

  // Before: a code not redeemed yet, an access token, and a second browser halfway (login page shown).
  const returning = new WebBrowser()
  const pendingCode = plusid.codeFrom(await authorizeInBrowser(returning, base, plusid.authorizationUrl('before'), { user }))
  const issued = (await (
    await plusid.redeem(plusid.codeFrom(await authorizeInBrowser(returning, base, plusid.authorizationUrl('token'), { user })))
  ).json()) as Tokens
  assert.ok(issued.access_token)
  const halfway = new WebBrowser()
  const loginPage = await halfway.follow(plusid.authorizationUrl('halfway'), base)
  assert.ok('page' in loginPage && loginPage.page.status === 200)
  const loginAction = new URL(halfway.formAction(), base).href
  const loginCsrf = halfway.csrfToken()
  assert.match(loginAction, /\/login$/)

  await outage.down()

  await assertUnavailable(await plusid.redeem(pendingCode), 'json', 'token')
  const bearer = { authorization: `Bearer ${issued.access_token}` }
  await assertUnavailable(await fetch(`${base}/oauth2/v2.1/userinfo`, { headers: bearer }), 'json', 'userinfo')
  await assertUnavailable(await fetch(`${base}/v2/profile`, { headers: bearer }), 'json', 'profile')
  await assertUnavailable(await fetch(`${base}/oauth2/v2.1/verify?access_token=${issued.access_token}`), 'json', 'verify')
  await assertUnavailable(
    await plusid.form('/oauth2/v2.1/revoke', {
      access_token: issued.access_token,
      client_id: plusid.channelId,
      client_secret: plusid.secret,
    }),
    'json',
    'revoke',
  )
  await assertUnavailable(
    await plusid.form('/oauth2/v3/token', { grant_type: 'client_credentials', client_id: plusid.channelId, client_secret: plusid.secret }),
    'json',
    'channel token',
  )
  // The channel cannot be looked up, so its callback is not verified: a page, never a redirect.
  await assertUnavailable(await returning.get(plusid.authorizationUrl('during')), 'html', 'authorize')
  await assertUnavailable(
    await halfway.post(loginAction, { csrf_token: loginCsrf, email: user.email, password: user.password }),
    'html',
    'login in an interaction',
  )
  await assertUnavailable(await returning.get(`${base}/account`), 'html', 'account page')
  // The 503 page speaks the visitor's language like every other page (Japanese by default).
  const japanese = await returning.request(`${base}/account`, { headers: { 'accept-language': 'ja' } })
  assert.equal(japanese.status, 503)
  assert.match(await japanese.text(), /plusid は一時的に利用できません/)
  const registering = new WebBrowser()
  await registering.get(`${base}/register`)
  await assertUnavailable(
    await registering.post(`${base}/register`, { email: uniqueEmail('during'), password: 'a long password', name: 'X' }),
    'html',
    'registration',
  )
  assert.equal((await fetch(`${base}/readyz`)).status, 503)
  assert.equal((await fetch(`${base}/healthz`)).status, 200)

  await outage.up()
  await waitUntilReady(base)

  // The code presented during the outage was not consumed: redeemable exactly once now.
  const late = await plusid.redeem(pendingCode)
  assert.equal(late.status, 200, await late.clone().text())
  assert.equal((await plusid.redeem(pendingCode)).status, 400, 'and only once')
  assert.equal((await fetch(`${base}/oauth2/v2.1/userinfo`, { headers: bearer })).status, 200, 'tokens issued before still work')
  // The half-finished login goes on where it stopped.
  const loggedIn = await halfway.post(loginAction, { csrf_token: loginCsrf, email: user.email, password: user.password })
  assert.equal(loggedIn.status, 303)
  const callback = await authorizeInBrowser(halfway, base, new URL(loggedIn.headers.get('location')!, base).href, { user })
  assert.equal(callback.searchParams.get('state'), 'halfway')
  const fresh = (await (await plusid.redeem(plusid.codeFrom(callback))).json()) as Tokens
  assert.equal(
    (await fetch(`${base}/oauth2/v2.1/userinfo`, { headers: { authorization: `Bearer ${fresh.access_token}` } })).status,
    200,
    'the full flow works after recovery',
  )

  // A connection lost in the middle of a token request: the code was claimed (burnt first, by
  // design) but no token exists, so it is cleanly refused afterwards — nothing half-issued.
  const code = plusid.codeFrom(await authorizeInBrowser(returning, base, plusid.authorizationUrl('crash'), { user }))
  const tokensBefore = await countTokens(database)
  await outage.loseConnectionOn('access_tokens')
  await assertUnavailable(await plusid.redeem(code), 'json', 'token request losing its connection')
  await outage.restoreStatements()
  await waitUntilReady(base)
  assert.deepEqual(await countTokens(database), tokensBefore, 'no access or refresh token was written')
  const retried = await plusid.redeem(code)
  assert.equal(retried.status, 400)
  assert.equal(((await retried.json()) as { error: string }).error, 'invalid_grant')

  // A connection lost once the callback is verified: the channel is told, with state and iss.
  await outage.loseConnectionOn('interactions')
  const stranger = new WebBrowser()
  const told = await stranger.get(plusid.authorizationUrl('told'))
  await outage.restoreStatements()
  assert.equal(told.status, 302)
  const location = new URL(told.headers.get('location')!)
  assert.equal(location.origin + location.pathname, CALLBACK)
  assert.equal(location.searchParams.get('error'), 'temporarily_unavailable')
  assert.equal(location.searchParams.get('state'), 'told')
  assert.equal(location.searchParams.get('iss'), base)
}

async function countTokens(database: Database): Promise<{ access: number; refresh: number }> {
  const { rows } = await sql<{
    access: number
    refresh: number
  }>`SELECT (SELECT count(*)::int FROM access_tokens) AS access, (SELECT count(*)::int FROM refresh_tokens) AS refresh`.execute(database.db)
  return rows[0]!
}

// ---------- the tests ----------

test('PostgreSQL stopped and restarted mid-flow: 503s, nothing half-issued, recovery without a restart', {
  skip: !onServer
    ? 'runs with DATABASE_URL set (the embedded database has its own test below)'
    : !postgresBin
      ? 'initdb/pg_ctl not found under /usr/lib/postgresql/<version>/bin'
      : false,
  timeout: 180_000,
}, async (t) => {
  const { database, outage } = await serverOutage(t)
  await outageScenario(t, database, outage)
})

test('the embedded database lost under the app: the same 503s and recovery', {
  skip: onServer ? 'runs without DATABASE_URL (the PostgreSQL run stops a real server instead)' : false,
}, async (t) => {
  const { database, outage } = await embeddedOutage()
  await outageScenario(t, database, outage)
})

test('an idle pooled connection killed by the server does not crash the process', {
  skip: onServer ? false : 'the embedded database has no connection pool',
}, async (t) => {
  const database = await testDatabase()
  const app = await build(t)
  // Several connections in the pool, then idle.
  await Promise.all(Array.from({ length: 5 }, () => app.inject({ method: 'GET', url: '/readyz' })))
  const admin = new pg.Client({ connectionString: process.env.DATABASE_URL })
  await admin.connect()
  const { rows } = await admin.query<{ killed: number }>(
    `SELECT count(*)::int AS killed FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()) AS terminated`,
    [(await sql<{ name: string }>`SELECT current_database() AS name`.execute(database.db)).rows[0]!.name],
  )
  await admin.end()
  assert.ok(rows[0]!.killed >= 1, 'some idle connections were terminated')
  await new Promise((resolve) => setTimeout(resolve, 200)) // the idle clients' 'error' events arrive
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200)
  assert.equal((await new Browser(app).get('/login')).statusCode, 200)
  await registerUser(new Browser(app))
})

// ---------- Redis ----------

/** A Redis server of this test alone, on a free port. */
async function throwawayRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  })
  for (let i = 0; i < 50; i++) {
    const socket = net.connect(port, '127.0.0.1')
    const answered = await once(socket, 'connect').then(
      () => true,
      () => false,
    )
    socket.destroy()
    if (answered) return child
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  child.kill()
  throw new Error('redis-server did not start')
}

const hasRedisServer = (() => {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

test('Redis down: logins, registrations and failed token requests get 503; the rest serves; it recovers', {
  skip: hasRedisServer ? false : 'redis-server is not installed',
}, async (t) => {
  const port = await freePort()
  let redis = await throwawayRedis(port)
  t.after(() => void redis.kill())
  const app = await build(t, { REDIS_URL: `redis://127.0.0.1:${port}` })
  const account = await registerUser(new Browser(app))
  const login = async () => {
    const browser = new Browser(app)
    await browser.get('/login')
    return browser.post('/login', { email: account.email, password: account.password })
  }
  assert.equal((await login()).statusCode, 303)

  redis.kill()
  await once(redis, 'exit')
  const refused = await login()
  assert.equal(refused.statusCode, 503, 'fail closed: a login that cannot be counted is refused')
  assert.doesNotMatch(refused.body, LEAKS)
  const registering = new Browser(app)
  await registering.get('/register')
  assert.equal(
    (await registering.post('/register', { email: uniqueEmail('no-redis'), password: 'a long password', name: 'X' })).statusCode,
    503,
  )
  const token = await app.inject({
    method: 'POST',
    url: '/oauth2/v2.1/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=authorization_code&code=guess&redirect_uri=x&client_id=x',
  })
  assert.equal(token.statusCode, 503)
  assert.equal(token.json().error, 'temporarily_unavailable')
  assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'PostgreSQL is fine: the process stays in the pool')
  assert.equal((await app.inject({ method: 'GET', url: '/oauth2/v2.1/certs' })).statusCode, 200)

  redis = await throwawayRedis(port)
  for (let i = 0; i < 50 && (await login()).statusCode !== 303; i++) await new Promise((resolve) => setTimeout(resolve, 200))
  assert.equal((await login()).statusCode, 303, 'logins work again once Redis is back')
})

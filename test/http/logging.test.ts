// Logs are for operators: they must not hold passwords, session cookies or personal data.
import assert from 'node:assert/strict'
import { Writable } from 'node:stream'
import { test } from 'node:test'
import { pino } from 'pino'
import { buildApp } from '../../src/app.ts'
import { loggerOptions } from '../../src/logger.ts'
import { deleteExpiredRows } from '../../src/maintenance.ts'
import { buildOptions, testConfig } from '../helpers/app.ts'
import { Browser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'

const database = await testDatabase()

test('no password, cookie, email or Profile+ value reaches the log', async (t) => {
  let logged = ''
  const stream = new Writable({
    write: (chunk, _encoding, done) => {
      logged += chunk
      done()
    },
  })
  const config = testConfig({ LOG_LEVEL: 'trace' })
  const app = await buildApp(config, await buildOptions({ logger: pino(loggerOptions(config), stream) }))
  t.after(() => app.close())

  const email = uniqueEmail('logged')
  const password = 'never-log-this-password'
  const browser = new Browser(app, { authorization: 'Bearer secret-bearer-token' })
  await browser.submit('/register', '/register', { email, password, name: 'Logger' })
  await browser.submit('/account/profile', '/account/profile', {
    name: 'Logger',
    family_name: '秘密',
    given_name: '花子',
    family_name_pronunciation: 'ヒミツ',
    given_name_pronunciation: 'ハナコ',
    phone_number: '090-9876-5432',
  })
  const other = new Browser(app)
  await other.submit(`/login?next=%2Faccount&login_hint=${encodeURIComponent(email)}`, '/login', { email, password: 'wrong-password-xyz' })
  await other.submit('/login', '/login', { email, password })

  assert.match(logged, /login failed/, 'the log is written (at trace level)')
  assert.match(logged, /"url":"\/login"/, 'URLs are logged without their query')
  for (const secret of [
    email,
    email.split('@')[0]!,
    password,
    'wrong-password-xyz',
    'secret-bearer-token',
    '秘密',
    '09098765432',
    '+819098765432',
    browser.cookies.get('plusid_session')!.split('.')[1]!,
  ]) {
    assert.ok(!logged.includes(secret), `the log contains ${secret}`)
  }
})

test('the periodic cleanup deletes expired sessions in batches and keeps live ones', async (t) => {
  const app = await buildApp(testConfig(), await buildOptions())
  t.after(() => app.close())
  const browsers = [new Browser(app), new Browser(app), new Browser(app)]
  for (const browser of browsers)
    await browser.submit('/register', '/register', { email: uniqueEmail('cleanup'), password: 'cleanup password', name: 'C' })
  const ids = browsers.map((browser) => browser.cookies.get('plusid_session')!.split('.')[0]!)
  await database.db
    .updateTable('sessions')
    .set({ expires_at: new Date(Date.now() - 1000) })
    .where('id', 'in', ids.slice(0, 2))
    .execute()
  assert.ok((await deleteExpiredRows(database.db, new Date(), { usedCodeSeconds: 0 }, 1))!.sessions! >= 2)
  const left = await database.db.selectFrom('sessions').select('id').where('id', 'in', ids).execute()
  assert.deepEqual(
    left.map((row) => row.id),
    [ids[2]],
  )
})

test('GET /metrics exists only with METRICS=true and counts database round trips', async (t) => {
  const off = await buildApp(testConfig(), await buildOptions())
  t.after(() => off.close())
  assert.equal((await off.inject({ method: 'GET', url: '/metrics' })).statusCode, 404)
  const app = await buildApp(testConfig({ METRICS: 'true' }), await buildOptions())
  t.after(() => app.close())
  const read = async () => Number(/plusid_db_queries_total (\d+)/.exec((await app.inject({ method: 'GET', url: '/metrics' })).body)![1])
  const before = await read()
  await app.inject({ method: 'GET', url: '/readyz' })
  assert.equal((await read()) - before, 1, 'readyz runs one query')
  assert.match(
    (await app.inject({ method: 'GET', url: '/metrics' })).body,
    /plusid_http_requests_total\{method="GET",route="\/readyz",status="200"\} 1/,
  )
})

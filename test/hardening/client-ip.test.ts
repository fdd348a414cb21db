// Issue 13 item 1, README, Security (Client IP): TRUST_PROXY names the hops to believe. Behind one
// trusted proxy, a client that rotates the X-Forwarded-For it sends (the shipped nginx used to
// append to it) cannot bypass the per-IP limits nor write a forged address into the audit log:
// the client's address is the one the proxy itself added.
import assert from 'node:assert/strict'
import { randomInt } from 'node:crypto'
import fs from 'node:fs'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import { build, buildOptions, testConfig } from '../helpers/app.ts'
import { buildApp } from '../../src/app.ts'
import { Browser, registerUser } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'

const db = (await testDatabase()).db
const randomIp = () => `198.51.${randomInt(256)}.${randomInt(1, 255)}`
const uniqueClient = () => `203.0.${randomInt(256)}.${randomInt(1, 255)}`

for (const trust of ['1', '127.0.0.1', '127.0.0.0/8,10.0.0.0/8']) {
  test(`TRUST_PROXY=${trust}: rotating the leftmost X-Forwarded-For does not bypass the login limit`, async (t) => {
    const app = await build(t, { TRUST_PROXY: trust, LOGINS_PER_IP_PER_MINUTE: '5' })
    const browser = new Browser(app)
    const account = await registerUser(browser)
    const client = uniqueClient()
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) {
      // What the old nginx passed on: the client's own header, then the address nginx saw.
      browser.headers['x-forwarded-for'] = `${randomIp()}, ${randomIp()}, ${client}`
      await browser.get('/login')
      statuses.push((await browser.post('/login', { email: account.email, password: 'wrong password!' })).statusCode)
    }
    assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401])
    assert.deepEqual(statuses.slice(5), Array(7).fill(429), `statuses: ${statuses}`)
    // The audit log has the proxy's address for the client, never one the client chose.
    const ips = await db
      .selectFrom('audit_log')
      .select('ip')
      .where('action', 'like', 'user.login%')
      .where('ip', 'like', '198.51.%')
      .execute()
    assert.equal(ips.length, 0, 'no forged address in the audit log')
    const real = await db.selectFrom('audit_log').select('ip').where('ip', '=', client).execute()
    assert.ok(real.length >= 5)
    // Another client behind the same proxy is not affected.
    browser.headers['x-forwarded-for'] = uniqueClient()
    await browser.get('/login')
    assert.equal((await browser.post('/login', { email: account.email, password: 'wrong password!' })).statusCode, 401)
  })
}

/** An app with a route that says which client IP plusid sees. */
async function ipEcho(t: TestContext, env: Record<string, string>) {
  const app = await buildApp(testConfig(env), await buildOptions())
  t.after(() => app.close())
  app.get('/__ip', async (request) => ({ ip: request.ip }))
  await app.ready()
  return async (remoteAddress: string, xff: string) =>
    (await app.inject({ url: '/__ip', remoteAddress, headers: { 'x-forwarded-for': xff } })).json<{ ip: string }>().ip
}

test('an address list trusts only those proxies: a direct client\u2019s X-Forwarded-For is ignored', async (t) => {
  const ip = await ipEcho(t, { TRUST_PROXY: '10.0.0.7' })
  assert.equal(await ip('192.0.2.50', '198.51.100.1'), '192.0.2.50')
  assert.equal(await ip('10.0.0.7', '198.51.100.1, 192.0.2.51'), '192.0.2.51')
  // Two hops: the first trusted proxy's own client is the next one out, which is not trusted.
  const two = await ipEcho(t, { TRUST_PROXY: '2' })
  assert.equal(await two('10.0.0.1', '198.51.100.1, 192.0.2.52, 10.0.0.2'), '192.0.2.52')
})

test('without TRUST_PROXY, X-Forwarded-For is ignored', async (t) => {
  const ip = await ipEcho(t, {})
  assert.equal(await ip('192.0.2.60', '198.51.100.1'), '192.0.2.60')
})

test('the shipped nginx sets X-Forwarded-For to the address it saw; compose trusts one hop and requires the key', () => {
  const nginx = fs.readFileSync(new URL('../../deploy/nginx.conf', import.meta.url), 'utf8')
  assert.match(nginx, /proxy_set_header X-Forwarded-For \$remote_addr;/)
  assert.doesNotMatch(nginx, /proxy_add_x_forwarded_for/)
  const compose = fs.readFileSync(new URL('../../docker-compose.yml', import.meta.url), 'utf8')
  assert.match(compose, /TRUST_PROXY: "1"/)
  assert.match(compose, /PLUSID_MASTER_KEY: "\$\{PLUSID_MASTER_KEY:\?[^}]*openssl rand -hex 32[^}]*\}"/)
})

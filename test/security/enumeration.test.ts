// Enumeration: nothing plusid answers may tell whether an account or a channel exists.
// RFC 6749 §5.2 (invalid_client: "unknown client, no client authentication included, or
// unsupported authentication method" — one error for all of them) and §10.10 / §10.x on
// credential guessing; RFC 6819 §5.2.3.1; OWASP ASVS V6.3 (generic authentication failures,
// same response and timing for unknown and known accounts).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'
import { build } from '../helpers/app.ts'
import { Browser, registerUser, uniqueEmail } from '../helpers/browser.ts'
import { testDatabase } from '../helpers/database.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { LOGIN_FAILED } from '../../src/routes/accounts.ts'
import { translate } from '../../src/i18n/index.ts'

const database = await testDatabase()
const UNKNOWN_CHANNEL = '1999999999'
const WRONG_SECRET = 'f'.repeat(32)

const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`

async function postForm(app: FastifyInstance, url: string, fields: Record<string, string>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url,
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: new URLSearchParams(fields).toString(),
  })
}

/** Everything a client sees but the Date header. */
function visible(response: LightMyRequestResponse) {
  const { date: _date, ...headers } = response.headers
  return { status: response.statusCode, headers, body: response.body }
}

/** The statements a request runs, with their parameters left out: the work the database does. */
async function statementsOf<T>(work: () => Promise<T>): Promise<{ result: T; statements: string[] }> {
  const statements: string[] = []
  const stop = database.watchQueries((event) => statements.push(event.query.sql))
  try {
    return { result: await work(), statements }
  } finally {
    stop()
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!

test('the token endpoints answer an unknown client_id and a wrong secret identically', async (t) => {
  const app = await build(t)
  const web = await createTestChannel()
  const spa = await createTestChannel({ kind: 'spa', callbackUrls: ['https://spa.example.com/cb'] })

  const grants = {
    authorization_code: { grant_type: 'authorization_code', code: 'x'.repeat(43), redirect_uri: web.redirectUri },
    refresh_token: { grant_type: 'refresh_token', refresh_token: 'y'.repeat(43) },
  }
  const endpoints: [string, string, Record<string, string>][] = [
    ...Object.entries(grants).map(
      ([name, fields]) => [`token ${name}`, '/oauth2/v2.1/token', fields] as [string, string, Record<string, string>],
    ),
    ['revoke', '/oauth2/v2.1/revoke', { token: 'z'.repeat(43) }],
    ['introspect', '/oauth2/v2.1/introspect', { token: 'z'.repeat(43) }],
    ['channel access token', '/oauth2/v3/token', { grant_type: 'client_credentials' }],
  ]
  for (const [name, url, fields] of endpoints) {
    for (const method of ['post', 'basic'] as const) {
      const send = (id: string, secret: string) =>
        statementsOf(() =>
          method === 'post'
            ? postForm(app, url, { ...fields, client_id: id, client_secret: secret })
            : postForm(app, url, fields, { authorization: basic(id, secret) }),
        )
      const wrongSecret = await send(web.channelId, WRONG_SECRET)
      const unknown = await send(UNKNOWN_CHANNEL, WRONG_SECRET)
      // A public channel has no secret: one sent for it fails like any other.
      const publicWithSecret = await send(spa.channelId, WRONG_SECRET)
      const label = `${name} (${method})`
      assert.equal(wrongSecret.result.statusCode, 401, label)
      assert.deepEqual(
        JSON.parse(wrongSecret.result.body),
        { error: 'invalid_client', error_description: 'invalid client_id or client_secret' },
        label,
      )
      if (method === 'basic') assert.match(String(wrongSecret.result.headers['www-authenticate']), /^Basic /, label)
      else assert.equal(wrongSecret.result.headers['www-authenticate'], undefined, label)
      assert.deepEqual(visible(unknown.result), visible(wrongSecret.result), `${label}: unknown client_id and wrong secret`)
      assert.deepEqual(visible(publicWithSecret.result), visible(wrongSecret.result), `${label}: public channel sent a secret`)
      // The same statements, so the same database work and time, whichever it was (sorted: some
      // run in parallel on a pool and finish in either order).
      assert.deepEqual(unknown.statements.sort(), wrongSecret.statements.sort(), `${label}: the same queries`)
    }
  }
})

test('an unknown client_id and a wrong secret take the same time at the token endpoint', async (t) => {
  const app = await build(t)
  const web = await createTestChannel()
  const attempt = async (clientId: string) => {
    const started = performance.now()
    const response = await postForm(app, '/oauth2/v2.1/token', {
      grant_type: 'refresh_token',
      refresh_token: 'y'.repeat(43),
      client_id: clientId,
      client_secret: WRONG_SECRET,
    })
    assert.equal(response.statusCode, 401)
    return performance.now() - started
  }
  await attempt(web.channelId) // warm up
  const wrong: number[] = []
  const unknown: number[] = []
  for (let i = 0; i < 15; i++) {
    wrong.push(await attempt(web.channelId))
    unknown.push(await attempt(UNKNOWN_CHANNEL))
  }
  const ratio = median(unknown) / median(wrong)
  assert.ok(ratio > 0.5 && ratio < 2, `unknown client took ${median(unknown).toFixed(2)} ms, wrong secret ${median(wrong).toFixed(2)} ms`)
})

test('an unknown email and a wrong password get the same answer, in the same time', async (t) => {
  const app = await build(t)
  const account = await registerUser(new Browser(app))
  const attempt = async (email: string) => {
    const browser = new Browser(app)
    await browser.get('/login')
    const started = performance.now()
    const response = await browser.post('/login', { email, password: 'wrong password' })
    return { response, ms: performance.now() - started }
  }
  const wrong = await attempt(account.email)
  const unknown = await attempt(uniqueEmail('nobody'))
  for (const { response } of [wrong, unknown]) {
    assert.equal(response.statusCode, 401)
    assert.ok(response.body.includes(translate('en', LOGIN_FAILED)))
    assert.equal(response.body.match(/role="alert"/g)?.length, 1, 'one message for the form, none pinned on a field')
    assert.doesNotMatch(response.body, /aria-invalid/)
    assert.equal(
      response.cookies.find((c: { name: string }) => c.name === 'plusid_session'),
      undefined,
    )
  }
  const strip = (body: string) => body.replace(/value="[^"]*"/g, '')
  assert.equal(strip(wrong.response.body), strip(unknown.response.body), 'the pages differ only in form values')
  const { date: _a, 'set-cookie': _b, 'content-length': _c, ...wrongHeaders } = wrong.response.headers
  const { date: _d, 'set-cookie': _e, 'content-length': _f, ...unknownHeaders } = unknown.response.headers
  assert.deepEqual(unknownHeaders, wrongHeaders, 'the same headers')

  // Both paths run one argon2 verification (~20 ms); a lookup alone takes ~1 ms.
  // The two kinds of attempt alternate, so a busy machine slows both alike.
  const wrongTimes: number[] = []
  const unknownTimes: number[] = []
  for (let i = 0; i < 7; i++) {
    wrongTimes.push((await attempt(account.email)).ms)
    unknownTimes.push((await attempt(uniqueEmail('nobody'))).ms)
  }
  const wrongMs = median(wrongTimes)
  const unknownMs = median(unknownTimes)
  const ratio = unknownMs / wrongMs
  assert.ok(ratio > 0.5 && ratio < 2, `unknown email took ${unknownMs.toFixed(1)} ms, wrong password ${wrongMs.toFixed(1)} ms`)
})

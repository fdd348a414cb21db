// CORS for browser apps: token, userinfo, revoke, verify and /v2/profile answer the origins of
// registered spa callback URLs (preflights included) and no other origin; the authorization
// endpoint never answers CORS at all.
import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { test } from 'node:test'
import type { FastifyInstance } from 'fastify'
import { build } from '../helpers/app.ts'
import { createTestChannel } from '../helpers/oidc.ts'

const SPA = 'https://app.example.com'
const WEB = 'https://web.example.com'

const preflight = (app: FastifyInstance, url: string, origin: string, method = 'POST') =>
  app.inject({
    method: 'OPTIONS',
    url,
    headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': 'authorization, content-type' },
  })

test('CORS answers spa callback origins only, preflights included, never at authorize', async (t) => {
  const app = await build(t)
  const spa = await createTestChannel({ kind: 'spa', callbackUrls: [`${SPA}/callback`, 'http://localhost:5173/cb'] })
  await createTestChannel({ kind: 'web', callbackUrls: [`${WEB}/callback`] })

  await t.test('a preflight from a spa callback origin is granted, with the methods of the endpoint', async () => {
    for (const [url, method] of [
      ['/oauth2/v2.1/token', 'POST'],
      ['/oauth2/v2.1/userinfo', 'GET'],
      ['/oauth2/v2.1/userinfo', 'POST'],
      ['/oauth2/v2.1/revoke', 'POST'],
      ['/oauth2/v2.1/verify', 'POST'],
      ['/v2/profile', 'GET'],
    ] as const) {
      for (const origin of [SPA, 'http://localhost:5173']) {
        const response = await preflight(app, url, origin, method)
        assert.equal(response.statusCode, 204, `${method} ${url} from ${origin}`)
        assert.equal(response.headers['access-control-allow-origin'], origin)
        assert.match(String(response.headers['access-control-allow-methods']), new RegExp(method))
        assert.match(String(response.headers['access-control-allow-headers']), /Authorization/)
        assert.match(String(response.headers.vary), /Origin/)
      }
    }
  })

  await t.test('preflights from any other origin are refused: a web channel’s, an unknown one, a look-alike', async () => {
    for (const origin of [WEB, 'https://evil.example', 'https://app.example.com.evil.example', 'http://app.example.com', 'null']) {
      const response = await preflight(app, '/oauth2/v2.1/token', origin)
      assert.equal(response.statusCode, 403, origin)
      assert.equal(response.headers['access-control-allow-origin'], undefined, origin)
    }
    const wrongMethod = await preflight(app, '/v2/profile', SPA, 'POST')
    assert.equal(wrongMethod.statusCode, 403, 'a method the endpoint does not take')
  })

  await t.test('authorize and the other endpoints never answer CORS', async () => {
    for (const url of ['/oauth2/v2.1/authorize', '/oauth2/v2.1/introspect', '/oauth2/v3/token', '/login']) {
      const response = await preflight(app, url, SPA, 'GET')
      assert.equal(response.headers['access-control-allow-origin'], undefined, url)
      assert.notEqual(response.statusCode, 204, url)
    }
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: spa.channelId,
      redirect_uri: `${SPA}/callback`,
      scope: 'openid',
      code_challenge: 'x'.repeat(43),
      code_challenge_method: 'S256',
    })
    const authorize = await app.inject({ method: 'GET', url: `/oauth2/v2.1/authorize?${query}`, headers: { origin: SPA } })
    assert.equal(authorize.headers['access-control-allow-origin'], undefined)
  })

  await t.test('actual requests carry the header for a spa origin, errors included, and not for others', async () => {
    const token = (origin: string) =>
      app.inject({
        method: 'POST',
        url: '/oauth2/v2.1/token',
        headers: { origin, 'content-type': 'application/x-www-form-urlencoded' },
        payload: `grant_type=authorization_code&code=nope&client_id=${spa.channelId}&redirect_uri=x&code_verifier=${'a'.repeat(43)}`,
      })
    const granted = await token(SPA)
    assert.equal(granted.statusCode, 400)
    assert.equal(granted.json().error, 'invalid_grant')
    assert.equal(granted.headers['access-control-allow-origin'], SPA, 'the app can read the error')
    assert.equal((await token(WEB)).headers['access-control-allow-origin'], undefined)
    const userinfo = await app.inject({
      method: 'GET',
      url: '/oauth2/v2.1/userinfo',
      headers: { origin: SPA, authorization: 'Bearer nope' },
    })
    assert.equal(userinfo.statusCode, 401)
    assert.equal(userinfo.headers['access-control-allow-origin'], SPA)
    assert.match(String(userinfo.headers['access-control-expose-headers']), /WWW-Authenticate/)
    const withoutOrigin = await app.inject({ method: 'GET', url: '/oauth2/v2.1/userinfo', headers: { authorization: 'Bearer nope' } })
    assert.equal(withoutOrigin.headers['access-control-allow-origin'], undefined)
  })

  await t.test('a spa channel registered now is served within seconds', async () => {
    await createTestChannel({ kind: 'spa', callbackUrls: ['https://new-app.example.com/cb'] })
    await sleep(2_100)
    assert.equal((await preflight(app, '/oauth2/v2.1/token', 'https://new-app.example.com')).statusCode, 204)
  })
})

// Issue 13 item 8, RFC 8252 §7.3 (README, Protocol choices: callback URLs): a native channel's loopback
// callback may vary its port, but its host is the literal 127.0.0.1 or [::1]. Every other way of
// writing loopback (which the URL parser would quietly turn into 127.0.0.1) gets the error page,
// and so do port 0 and ports written oddly; nothing is redirected there.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { build } from '../helpers/app.ts'
import { createTestChannel } from '../helpers/oidc.ts'
import { callbackUrlProblem } from '../../src/oauth/callback-urls.ts'

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM'

const authorize = (channelId: string, redirectUri: string) =>
  `/oauth2/v2.1/authorize?${new URLSearchParams({ response_type: 'code', client_id: channelId, redirect_uri: redirectUri, scope: 'openid profile', state: 's', code_challenge: CHALLENGE, code_challenge_method: 'S256' })}`

test('native loopback callbacks: other spellings of 127.0.0.1 and port 0 get the error page', async (t) => {
  const app = await build(t)
  const v4 = await createTestChannel({ kind: 'native', callbackUrls: ['http://127.0.0.1/native'] })
  const v6 = await createTestChannel({ kind: 'native', callbackUrls: ['http://[::1]/native'] })

  for (const good of ['http://127.0.0.1/native', 'http://127.0.0.1:8080/native', 'http://127.0.0.1:65535/native']) {
    const response = await app.inject({ url: authorize(v4.channelId, good) })
    assert.equal(response.statusCode, 303, `${good}: ${response.statusCode}`)
    assert.match(String(response.headers.location), /^\/interaction\//)
  }
  assert.equal((await app.inject({ url: authorize(v6.channelId, 'http://[::1]:51234/native') })).statusCode, 303)

  const spellings = [
    'http://127.1/native',
    'http://127.1:8080/native',
    'http://0x7f000001/native',
    'http://0x7f.0.0.1/native',
    'http://2130706433/native',
    'http://0177.0.0.1/native',
    'http://127.0.0.1./native',
    'http://127.0.0.1.:8080/native',
    'http://127.0.0.1:0/native',
    'http://127.0.0.1:00/native',
    'http://127.0.0.1:08080/native',
    'http://127.0.0.1:65536/native',
    'http://localhost:8080/native',
    'http://LOCALHOST/native',
    'HTTP://127.0.0.1:8080/native',
    'http://127.0.0.1:8080/native/',
    'http://127.0.0.1:8080/Native',
    'http://127.0.0.1:8080/native?x=1',
    'http://[0:0:0:0:0:0:0:1]:8080/native',
    'http://[::ffff:127.0.0.1]:8080/native',
  ]
  for (const spelling of spellings) {
    const response = await app.inject({ url: authorize(v4.channelId, spelling) })
    assert.equal(
      response.statusCode,
      400,
      `${spelling} must be refused, got ${response.statusCode} ${String(response.headers.location ?? '')}`,
    )
    assert.equal(response.headers.location, undefined)
    assert.match(response.body, /not a callback URL registered for this site/)
  }
  const v6Spelling = await app.inject({ url: authorize(v6.channelId, 'http://[0::1]:8080/native') })
  assert.equal(v6Spelling.statusCode, 400)
  const japanese = await app.inject({ url: authorize(v4.channelId, 'http://127.1/native'), headers: { 'accept-language': 'ja' } })
  assert.equal(japanese.statusCode, 400)
  assert.match(japanese.body, /lang="ja"/)
})

test('registration refuses loopback callbacks that are not written literally', () => {
  for (const url of [
    'http://127.1/cb',
    'http://2130706433/cb',
    'http://0x7f000001/cb',
    'http://127.0.0.1./cb',
    'http://127.0.0.1:0/cb',
    'http://[0::1]/cb',
  ]) {
    assert.equal(callbackUrlProblem(url, 'native'), 'callback.httpOnlyLoopback', url)
  }
  for (const url of [
    'http://127.0.0.1/cb',
    'http://127.0.0.1:3000/cb',
    'http://[::1]/cb',
    'http://localhost:3000/cb',
    'http://127.0.0.1?x=1',
  ]) {
    assert.equal(callbackUrlProblem(url, 'native'), null, url)
  }
})

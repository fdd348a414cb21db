// The sample relying party of "Trying the protocol" (examples/client): a login through it
// receives the code, tokens, the ID token's claims and userinfo, and prints them.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { startExampleClient } from '../examples/client/client.ts'
import { authorizeInBrowser, createTestChannel, createTestUser, freePort, startServer, WebBrowser } from './helpers/oidc.ts'

test('npm run example:client: a login prints the code, the tokens and the claims', async (t) => {
  const { issuer } = await startServer(t)
  const port = await freePort()
  const channel = await createTestChannel({ callbackUrls: [`http://localhost:${port}/callback`], items: ['email'] })
  const user = await createTestUser()
  const printed: string[] = []
  const sample = await startExampleClient({
    issuer,
    clientId: channel.channelId,
    clientSecret: channel.secret!,
    scope: 'openid profile email',
    port,
    idTokenAlg: 'RS256',
    print: (text) => printed.push(text),
  })
  t.after(() => sample.close())

  const browser = new WebBrowser()
  const callback = await authorizeInBrowser(browser, issuer, `${sample.url}/`, { user })
  const page = await browser.get(callback.href)
  assert.equal(page.status, 200)
  assert.match(await page.text(), /Logged in through plusid/)
  const received = await sample.firstLogin
  assert.equal(received.code, callback.searchParams.get('code'))
  assert.equal(received.idTokenClaims?.iss, issuer)
  assert.equal(received.userinfo.email, user.email)
  assert.equal(typeof received.tokens.access_token, 'string')
  const output = printed.join('\n')
  for (const heading of ['the code:', 'the token response:', 'the ID token’s claims:', 'userinfo:'])
    assert.ok(output.includes(heading), heading)
  assert.ok(output.includes(user.email))
})

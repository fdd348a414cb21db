// Relying-party libraries with their defaults and nothing plusid-specific: a channel created
// without naming an algorithm signs with RS256, which is what they expect.
// - express-openid-connect (its defaults, with the code flow any code-only provider needs, and
//   idpLogout, whose post_logout_redirect_uri is its base URL without a trailing slash);
// - what go-oidc and golang.org/x/oauth2 do by default: discovery whose issuer must equal the URL
//   asked, the code exchanged with client_secret_basic, the ID token verified with RS256 only
//   against the JWKS, iss and aud checked.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import { test } from 'node:test'
import express from 'express'
import expressOpenidConnect from 'express-openid-connect' // CommonJS: named imports are not detected

const { auth, requiresAuth } = expressOpenidConnect
import { createRemoteJWKSet, jwtVerify } from 'jose'
import { authorizeInBrowser, createTestChannel, createTestUser, freePort, startServer, WebBrowser } from '../helpers/oidc.ts'

test('express-openid-connect logs in, reads the claims and logs out through plusid with its defaults', async (t) => {
  const { issuer } = await startServer(t)
  const port = await freePort()
  const baseURL = `http://localhost:${port}`
  const channel = await createTestChannel({ callbackUrls: [`${baseURL}/callback`], logoutUrls: [baseURL], items: ['email'] })
  const user = await createTestUser()

  const rp = express()
  rp.use(
    auth({
      issuerBaseURL: issuer,
      baseURL,
      clientID: channel.channelId,
      clientSecret: channel.secret!,
      secret: 'a session secret of the relying party, long enough',
      authRequired: false,
      idpLogout: true,
      authorizationParams: { response_type: 'code', scope: 'openid profile email' },
    }),
  )
  rp.get('/me', requiresAuth(), (request, response) => {
    response.json({ claims: request.oidc.idTokenClaims })
  })
  const server = rp.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())

  const browser = new WebBrowser()
  const callback = await authorizeInBrowser(browser, issuer, `${baseURL}/login`, { user })
  assert.equal(callback.origin + callback.pathname, `${baseURL}/callback`)
  const landed = await browser.get(callback.href)
  assert.equal(landed.status, 302, await landed.clone().text())
  const me = await browser.get(`${baseURL}/me`)
  assert.equal(me.status, 200)
  const { claims } = (await me.json()) as { claims: Record<string, unknown> }
  assert.equal(claims.iss, issuer)
  assert.equal(claims.aud, channel.channelId)
  assert.equal(claims.email, user.email)

  // Logout goes through plusid's confirmation and back to the base URL, a registered logout URL.
  const logout = await browser.get(`${baseURL}/logout`)
  const endSession = new URL(logout.headers.get('location')!)
  assert.equal(endSession.origin + endSession.pathname, `${issuer}/oauth2/v2.1/logout`)
  assert.equal(endSession.searchParams.get('post_logout_redirect_uri'), baseURL)
  const confirm = await browser.get(endSession.href)
  assert.equal(confirm.status, 200)
  const hidden = Object.fromEntries(
    [...browser.lastPage.matchAll(/type="hidden" name="([a-z_]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]),
  )
  delete hidden.csrf_token
  const done = await browser.post(`${issuer}/oauth2/v2.1/logout`, { ...hidden, logout: 'yes' })
  assert.equal(done.status, 303)
  assert.equal(new URL(done.headers.get('location')!).href, `${baseURL}/`, 'back at the base URL (a URL with an empty path is /)')
})

test('go-oidc style defaults: exact issuer, client_secret_basic, RS256 only, iss and aud', async (t) => {
  const { issuer } = await startServer(t)
  const channel = await createTestChannel()
  const user = await createTestUser()

  const discovery = (await (await fetch(`${issuer}/.well-known/openid-configuration`)).json()) as Record<string, string>
  assert.equal(discovery.issuer, issuer, 'go-oidc refuses an issuer that differs from the URL it was given')
  const query = new URLSearchParams({
    response_type: 'code',
    client_id: channel.channelId,
    redirect_uri: channel.redirectUri,
    scope: 'openid profile',
    state: 'go-state',
  })
  const callback = await authorizeInBrowser(new WebBrowser(), issuer, `${discovery.authorization_endpoint}?${query}`, { user })
  assert.equal(callback.searchParams.get('state'), 'go-state')

  const response = await fetch(discovery.token_endpoint!, {
    method: 'POST',
    headers: {
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(channel.channelId)}:${encodeURIComponent(channel.secret!)}`).toString('base64')}`,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      code: callback.searchParams.get('code')!,
      redirect_uri: channel.redirectUri,
    }),
  })
  assert.equal(response.status, 200)
  const tokens = (await response.json()) as { id_token: string; access_token: string; token_type: string }
  assert.equal(tokens.token_type, 'Bearer')
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token, createRemoteJWKSet(new URL(discovery.jwks_uri!)), {
    algorithms: ['RS256'],
    issuer,
    audience: channel.channelId,
  })
  assert.equal(protectedHeader.alg, 'RS256')
  assert.ok(protectedHeader.kid, 'a kid names the JWKS key')
  assert.match(String(payload.sub), /^U[0-9a-f]{32}$/)
  const userinfo = await fetch(discovery.userinfo_endpoint!, { headers: { authorization: `Bearer ${tokens.access_token}` } })
  assert.equal(((await userinfo.json()) as { sub: string }).sub, payload.sub)
})

// A browser app on another origin, with oidc-client-ts and nothing plusid-specific: code + PKCE,
// userinfo, refresh, revocation and logout, all from the app's own origin through CORS. The app
// is a static page served on its own port (http://localhost:PORT), plusid listens on
// http://127.0.0.1:PORT2: another origin, as a real single-page app would be.
import assert from 'node:assert/strict'
import { once } from 'node:events'
import fs from 'node:fs'
import http from 'node:http'
import { test } from 'node:test'
import { launchChromium, DESKTOP, skipWithoutChromium, watchedPage } from '../helpers/chromium.ts'
import { createTestUser, freePort, startServer, createTestChannel } from '../helpers/oidc.ts'

// The library's own browser build (its package exports do not name the file).
const LIBRARY = fs.readFileSync(new URL('../../node_modules/oidc-client-ts/dist/browser/oidc-client-ts.min.js', import.meta.url), 'utf8')

/** The app: one page that runs the step its URL names (?step=, or its path) and shows what happened in #result. */
function appPage(settings: Record<string, string>): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>SPA</title>
<script src="/oidc-client-ts.js"></script></head><body><pre id="result"></pre><script>
const settings = ${JSON.stringify(settings)}
const users = new oidc.UserManager({ ...settings, response_type: 'code', scope: 'openid profile email', loadUserInfo: true, automaticSilentRenew: false })
const show = (value) => { document.getElementById('result').textContent = JSON.stringify(value) }
const fail = (error) => show({ error: String(error && error.message || error) })
const steps = {
  login: () => users.signinRedirect({ state: { from: 'spa' } }),
  callback: async () => {
    const user = await users.signinRedirectCallback()
    show({ sub: user.profile.sub, email: user.profile.email, name: user.profile.name, hasRefresh: Boolean(user.refresh_token), state: user.state, scope: user.scope })
  },
  refresh: async () => {
    const before = await users.getUser()
    const after = await users.signinSilent()
    show({ refreshed: after.access_token !== before.access_token, sameSub: after.profile.sub === before.profile.sub, rotated: after.refresh_token !== before.refresh_token })
  },
  userinfo: async () => {
    const user = await users.getUser()
    const response = await fetch(settings.authority + '/oauth2/v2.1/userinfo', { headers: { authorization: 'Bearer ' + user.access_token } })
    show({ status: response.status, body: await response.json() })
  },
  revoke: async () => {
    const user = await users.getUser()
    await users.revokeTokens(['access_token', 'refresh_token'])
    const response = await fetch(settings.authority + '/oauth2/v2.1/userinfo', { headers: { authorization: 'Bearer ' + user.access_token } })
    show({ status: response.status, challenge: response.headers.get('www-authenticate') })
  },
  logout: async () => users.signoutRedirect({ state: 'bye' }),
  loggedOut: async () => {
    const response = await users.signoutRedirectCallback()
    show({ loggedOut: true, state: response.userState ?? null })
  },
}
const step = new URLSearchParams(location.search).get('step') || (location.pathname === '/callback' ? 'callback' : location.pathname === '/logged-out' ? 'loggedOut' : 'none')
if (steps[step]) steps[step]().catch(fail)
</script></body></html>`
}

test('oidc-client-ts in Chromium on another origin: code + PKCE, userinfo, refresh, revoke, logout', {
  skip: skipWithoutChromium,
}, async (t) => {
  const { issuer } = await startServer(t)
  const port = await freePort()
  const app = `http://localhost:${port}`
  const channel = await createTestChannel({
    kind: 'spa',
    callbackUrls: [`${app}/callback`],
    logoutUrls: [`${app}/logged-out`],
    items: ['email'],
  })
  const user = await createTestUser()
  const page = appPage({
    authority: issuer,
    client_id: channel.channelId,
    redirect_uri: `${app}/callback`,
    post_logout_redirect_uri: `${app}/logged-out`,
  })
  const server = http.createServer((request, response) => {
    if (request.url === '/oidc-client-ts.js') return response.writeHead(200, { 'content-type': 'text/javascript' }).end(LIBRARY)
    response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page)
  })
  server.listen(port, '127.0.0.1')
  await once(server, 'listening')
  t.after(() => server.close())

  const browser = await launchChromium(t)
  const context = await browser.newContext(DESKTOP)
  const problems: string[] = []
  const tab = await watchedPage(context, problems)
  const result = async () => {
    await tab.waitForFunction(`document.getElementById('result') && document.getElementById('result').textContent !== ''`)
    return JSON.parse((await tab.locator('#result').textContent())!) as Record<string, unknown>
  }

  // Code + PKCE: the app sends the browser to plusid, the user logs in and consents.
  await tab.goto(`${app}/?step=login`)
  await tab.waitForURL(`${issuer}/**`)
  await tab.fill('input[name=email]', user.email)
  await tab.fill('input[name=password]', user.password)
  await tab.click('main form button[type=submit]')
  await Promise.all([tab.waitForURL(`${app}/callback**`), tab.click('button[name=decision][value=allow]')])
  const login = await result()
  assert.equal(login.error, undefined, JSON.stringify(login))
  assert.match(String(login.sub), /^U[0-9a-f]{32}$/)
  assert.equal(login.email, user.email, 'userinfo was read (loadUserInfo)')
  assert.equal(login.hasRefresh, true)
  assert.deepEqual(login.state, { from: 'spa' })

  const step = async (name: string) => {
    await tab.goto(`${app}/?step=${name}`)
    return result()
  }
  const userinfo = await step('userinfo')
  assert.equal(userinfo.status, 200, JSON.stringify(userinfo))
  assert.equal((userinfo.body as Record<string, unknown>).email, user.email)
  assert.deepEqual(await step('refresh'), { refreshed: true, sameSub: true, rotated: true })
  const revoked = await step('revoke')
  assert.equal(revoked.status, 401, 'the revoked access token no longer works')
  assert.match(String(revoked.challenge), /invalid_token/, 'the app can read the challenge (exposed header)')

  // Logout: plusid asks, the user confirms, the browser comes back to the app's logout URL.
  await tab.goto(`${app}/?step=logout`)
  await tab.waitForURL(`${issuer}/oauth2/v2.1/logout**`)
  await Promise.all([tab.waitForURL(`${app}/logged-out**`), tab.click('button[name=logout]')])
  const loggedOut = await result()
  assert.equal(loggedOut.loggedOut, true, JSON.stringify(loggedOut))
  await tab.goto(`${issuer}/account`)
  assert.match(tab.url(), /\/login/, 'the plusid session has ended')

  // Chromium logs the 401 the revoke step provoked on purpose; nothing else may appear (a CORS
  // refusal would).
  assert.deepEqual(
    problems.filter((problem) => !/\?step=revoke: console error: .* status of 401/.test(problem)),
    [],
  )
})

// Helpers for protocol tests: a real listening plusid, channels and users made through the same
// code the CLI uses, and a browser (fetch with a cookie jar) that walks the HTML forms.
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import type { TestContext } from 'node:test'
import type { FastifyInstance } from 'fastify'
import * as client from 'openid-client'
import { buildApp } from '../../src/app.ts'
import { registerAccount } from '../../src/auth/accounts.ts'
import { approvePermissions, createChannel, NewChannelInput } from '../../src/oauth/channels.ts'
import { PROFILE_ITEMS, validateProfileForm } from '../../src/profile/profile.ts'
import { saveProfile } from '../../src/storage/profiles.ts'
import { addChannelTester } from '../../src/storage/channels.ts'
import { buildOptions, TEST_MASTER_KEY, testConfig } from './app.ts'
import { uniqueEmail } from './browser.ts'
import { testDatabase } from './database.ts'

export async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1')
  await once(server, 'listening')
  const { port } = server.address() as net.AddressInfo
  server.close()
  await once(server, 'close')
  return port
}

export interface RunningServer {
  app: FastifyInstance
  issuer: string
}

/** plusid listening on 127.0.0.1 with its issuer set to that address, closed after the test. */
export async function startServer(t: TestContext, env: Record<string, string> = {}): Promise<RunningServer> {
  const port = await freePort()
  const issuer = `http://127.0.0.1:${port}`
  const app = await buildApp(testConfig({ PUBLIC_URL: issuer, ...env }), await buildOptions())
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port })
  return { app, issuer }
}

export const CALLBACK = 'https://rp.example.com/callback'

export interface TestChannel {
  channelId: string
  secret: string | null
  redirectUri: string
  /** The channel's ID token algorithm (RS256 unless the test chose another). */
  idTokenAlg?: string
}

export async function createTestChannel(options: Partial<NewChannelInput> & { items?: string[] } = {}): Promise<TestChannel> {
  const database = await testDatabase()
  const input = NewChannelInput.parse({ name: 'Test Shop', callbackUrls: [CALLBACK], publish: true, ...options })
  const { channelId, channelSecret } = await createChannel(database.db, TEST_MASTER_KEY, input)
  if (options.items?.length) await approvePermissions(database.db, channelId, options.items)
  return { channelId, secret: channelSecret, redirectUri: input.callbackUrls[0]!, idTokenAlg: input.idTokenAlg }
}

export const FULL_PROFILE = {
  family_name: '山田',
  given_name: '花子',
  family_name_pronunciation: 'ヤマダ',
  given_name_pronunciation: 'ハナコ',
  gender: 'female',
  birthdate: '1990-01-31',
  phone_number: '090-1234-5678',
  'address.postal_code': '102-8282',
  'address.region': '東京都',
  'address.locality': '千代田区紀尾井町',
  'address.street_address': '1番3号',
  'address.country': 'JP',
}

export interface TestUser {
  userId: string
  email: string
  password: string
  name: string
}

export async function createTestUser(options: { profile?: Record<string, string> | null; name?: string } = {}): Promise<TestUser> {
  const database = await testDatabase()
  const user = { email: uniqueEmail('oidc'), password: 'user password 123', name: options.name ?? 'Hanako' }
  const registration = await registerAccount(database.db, { email: user.email, password: user.password, displayName: user.name })
  assert.ok(registration.ok)
  const profile = options.profile === undefined ? FULL_PROFILE : options.profile
  if (profile) {
    const result = validateProfileForm(profile, PROFILE_ITEMS)
    assert.ok(result.ok, JSON.stringify(result))
    await saveProfile(database.db, registration.user.id, result.profile)
  }
  return { ...user, userId: registration.user.id }
}

export async function addTester(channelId: string, userId: string): Promise<void> {
  await addChannelTester((await testDatabase()).db, channelId, userId)
}

/** A browser: a cookie jar over fetch, no automatic redirects. */
export class WebBrowser {
  readonly cookies = new Map<string, string>()
  lastPage = ''

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const response = await fetch(url, {
      ...init,
      redirect: 'manual',
      headers: {
        'accept-language': 'en',
        ...(init.headers as Record<string, string>),
        cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
      },
    })
    for (const cookie of response.headers.getSetCookie()) {
      const [pair, ...attributes] = cookie.split(';')
      const eq = pair!.indexOf('=')
      const name = pair!.slice(0, eq).trim()
      const value = pair!.slice(eq + 1).trim()
      const expired = value === '' || attributes.some((a) => /expires=Thu, 01 Jan 1970/i.test(a) || /max-age=0/i.test(a.trim()))
      if (expired) this.cookies.delete(name)
      else this.cookies.set(name, value)
    }
    return response
  }

  async get(url: string): Promise<Response> {
    const response = await this.request(url)
    if (response.headers.get('content-type')?.startsWith('text/html')) this.lastPage = await response.clone().text()
    return response
  }

  async post(url: string, fields: Record<string, string | string[]>): Promise<Response> {
    const form = new URLSearchParams()
    if (!('csrf_token' in fields)) form.append('csrf_token', this.csrfToken())
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v)
    const response = await this.request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    })
    if (response.headers.get('content-type')?.startsWith('text/html')) this.lastPage = await response.clone().text()
    return response
  }

  csrfToken(): string {
    const match = /name="csrf_token" value="([^"]+)"/.exec(this.lastPage)
    assert.ok(match, `the page has no csrf_token field:\n${this.lastPage.slice(0, 2000)}`)
    return match[1]!
  }

  formAction(): string {
    // The page's own form, not the header's logout form.
    const match = /<form method="post" action="([^"]+)" class="card/.exec(this.lastPage)
    assert.ok(match, 'the page has no form')
    return match[1]!.replace(/&amp;/g, '&')
  }

  /**
   * Follows redirects from `url` until one leaves plusid (returned as a URL: the callback) or a
   * page is shown (returned as the Response, its HTML in lastPage).
   */
  async follow(url: string, base: string): Promise<{ callback: URL } | { page: Response }> {
    let next = url
    for (let hops = 0; hops < 10; hops++) {
      const response = await this.get(next)
      if (response.status < 300 || response.status >= 400) return { page: response }
      const location = new URL(response.headers.get('location')!, next)
      if (!location.href.startsWith(base)) return { callback: location }
      next = location.href
    }
    throw new Error('too many redirects')
  }
}

export interface AuthorizeOptions {
  user?: TestUser
  /** Items to uncheck on the consent page. */
  uncheck?: string[]
  /** Extra fields for the consent form (fill-ins). */
  consentFields?: Record<string, string>
  decision?: 'allow' | 'deny'
}

/**
 * Walks an authorization as a person would: follows the redirects, logs in if the login page
 * appears, unchecks items on the consent page, and returns the callback URL the browser reached.
 */
export async function authorizeInBrowser(
  browser: WebBrowser,
  base: string,
  authorizationUrl: string,
  options: AuthorizeOptions = {},
): Promise<URL> {
  let step = await browser.follow(authorizationUrl, base)
  for (let pages = 0; pages < 4; pages++) {
    if ('callback' in step) return step.callback
    const { page } = step
    assert.equal(page.status, 200, `unexpected page ${page.status}:\n${browser.lastPage.slice(0, 1500)}`)
    const action = new URL(browser.formAction(), base).href
    if (action.endsWith('/login')) {
      assert.ok(options.user, 'a login page appeared but no user was given')
      const response = await browser.post(action, { email: options.user.email, password: options.user.password })
      assert.equal(response.status, 303, `login failed: ${browser.lastPage.slice(0, 500)}`)
      step = await browser.follow(new URL(response.headers.get('location')!, base).href, base)
    } else if (action.endsWith('/consent')) {
      const offered = [...browser.lastPage.matchAll(/name="items" value="([a-z_]+)"/g)].map((m) => m[1]!)
      const items = offered.filter((item) => !(options.uncheck ?? []).includes(item))
      const response = await browser.post(action, { items, decision: options.decision ?? 'allow', ...(options.consentFields ?? {}) })
      if (response.status >= 300 && response.status < 400) {
        const location = new URL(response.headers.get('location')!, base)
        if (!location.href.startsWith(base)) return location
        step = await browser.follow(location.href, base)
      } else {
        step = { page: response }
      }
    } else {
      throw new Error(`unexpected form action ${action}`)
    }
  }
  throw new Error('the authorization did not finish')
}

/** An openid-client Configuration for a channel, discovered from the running server. */
export async function relyingParty(
  issuer: string,
  channel: TestChannel,
  options: { alg?: string; auth?: 'basic' | 'post' | 'none' } = {},
): Promise<client.Configuration> {
  const auth = options.auth ?? (channel.secret ? 'basic' : 'none')
  const clientAuth =
    auth === 'basic'
      ? client.ClientSecretBasic(channel.secret!)
      : auth === 'post'
        ? client.ClientSecretPost(channel.secret!)
        : client.None()
  const metadata: Partial<client.ClientMetadata> = {
    id_token_signed_response_alg: options.alg ?? channel.idTokenAlg ?? 'RS256',
    ...(channel.secret ? { client_secret: channel.secret } : {}),
  }
  return client.discovery(new URL(issuer), channel.channelId, metadata, clientAuth, { execute: [client.allowInsecureRequests] })
}

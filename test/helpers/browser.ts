// A browser for app.inject: keeps cookies, follows nothing by itself, and reads the CSRF token
// from the last page it loaded, so tests submit forms the way a person does.
import assert from 'node:assert/strict'
import type { FastifyInstance, LightMyRequestResponse } from 'fastify'

export class Browser {
  readonly cookies = new Map<string, string>()
  lastPage = ''

  readonly headers: Record<string, string>

  /** Pages come in English unless the test asks otherwise (their assertions quote English texts). */
  constructor(
    readonly app: FastifyInstance,
    headers: Record<string, string> = {},
  ) {
    this.headers = { 'accept-language': 'en', ...headers }
  }

  async get(url: string): Promise<LightMyRequestResponse> {
    const response = await this.app.inject({ method: 'GET', url, headers: { ...this.headers, cookie: this.cookieHeader() } })
    this.remember(response)
    if (response.headers['content-type']?.toString().startsWith('text/html')) this.lastPage = response.body
    return response
  }

  /** Posts a form with the CSRF token of the last page loaded (unless the fields give one). */
  async post(url: string, fields: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const form = new URLSearchParams()
    if (!('csrf_token' in fields)) form.append('csrf_token', this.csrfToken())
    for (const [name, value] of Object.entries(fields)) for (const v of [value].flat()) form.append(name, v)
    const response = await this.app.inject({
      method: 'POST',
      url,
      headers: { ...this.headers, cookie: this.cookieHeader(), 'content-type': 'application/x-www-form-urlencoded' },
      payload: form.toString(),
    })
    this.remember(response)
    if (response.headers['content-type']?.toString().startsWith('text/html')) this.lastPage = response.body
    return response
  }

  /** Loads the page, then submits its form. */
  async submit(pageUrl: string, action: string, fields: Record<string, string | string[]>): Promise<LightMyRequestResponse> {
    const page = await this.get(pageUrl)
    assert.equal(page.statusCode, 200, `GET ${pageUrl} answered ${page.statusCode}`)
    return this.post(action, fields)
  }

  csrfToken(): string {
    const match = /name="csrf_token" value="([^"]+)"/.exec(this.lastPage)
    assert.ok(match, 'the last page has no csrf_token field')
    return match[1]!
  }

  cookieHeader(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  private remember(response: LightMyRequestResponse) {
    for (const cookie of response.cookies as { name: string; value: string; expires?: Date; maxAge?: number }[]) {
      const expired = (cookie.expires && cookie.expires.getTime() <= Date.now()) || cookie.maxAge === 0 || cookie.value === ''
      if (expired) this.cookies.delete(cookie.name)
      else this.cookies.set(cookie.name, cookie.value)
    }
  }
}

let counter = 0
/** A unique email per call, so tests share one database without truncating it. */
export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}.${process.pid}.${Date.now()}.${++counter}@example.com`
}

export async function registerUser(browser: Browser, fields: Partial<{ email: string; password: string; name: string }> = {}) {
  const account = { email: uniqueEmail(), password: 'correct horse battery', name: '花子', ...fields }
  const response = await browser.submit('/register', '/register', account)
  assert.equal(response.statusCode, 303, `registration failed: ${response.body}`)
  return account
}

// Cross-cutting HTTP security: cookies, form bodies, CSRF tokens and response headers.
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'

/**
 * The Content-Security-Policy of every response: nothing loads but our own stylesheet, no script
 * runs (except the one file of the form_post page), no site may frame us. Pages whose form
 * redirects to a channel's callback allow that origin in form-action: browsers apply form-action
 * to the redirects that follow a form submission.
 */
export function contentSecurityPolicy(options: { formAction?: readonly string[]; script?: boolean; image?: string | null } = {}): string {
  const formAction = ["'self'", ...(options.formAction ?? []).map(formActionSource)]
  // The consent page shows the channel's icon from its own https origin (and nothing else from there).
  const imageOrigin = options.image ? httpsOrigin(options.image) : ''
  const image = imageOrigin ? ` ${imageOrigin}` : ''
  return [
    "default-src 'none'",
    "object-src 'none'",
    `script-src ${options.script ? "'self'" : "'none'"}`,
    "style-src 'self'",
    `img-src 'self' data:${image}`,
    `form-action ${[...new Set(formAction)].join(' ')}`,
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ')
}

/** The origin of an https URL, or '' when it is not one. */
export function httpsOrigin(url: string): string {
  try {
    const parsed = new URL(url)
    return parsed.protocol === 'https:' ? parsed.origin : ''
  } catch {
    return ''
  }
}

function formActionSource(url: string): string {
  const parsed = new URL(url)
  // http(s): the origin; a native app's private-use scheme: the scheme itself.
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.origin : parsed.protocol
}

/** `__Host-` cookies must be Secure, Path=/ and have no Domain: the browser then refuses any other. */
export function cookieName(config: Config, name: string): string {
  return config.secureCookies ? `__Host-${name}` : name
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(cookie)
    // HTML forms post application/x-www-form-urlencoded; a repeated field arrives as an array.
    await app.register(formbody, { bodyLimit: 64 * 1024 })
    // Double-submit CSRF tokens: an HttpOnly cookie holds the secret, each form a token made from it.
    await app.register(csrf, {
      sessionPlugin: '@fastify/cookie',
      cookieKey: cookieName(config, 'plusid_csrf'),
      cookieOpts: { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secureCookies },
      getToken: (request) => {
        const body = request.body as Record<string, unknown> | undefined
        return typeof body?.csrf_token === 'string' ? body.csrf_token : undefined
      },
    })
    const defaultPolicy = contentSecurityPolicy()
    app.addHook('onRequest', async (_request, reply) => {
      reply.header('content-security-policy', defaultPolicy)
    })
    await app.register(helmet, {
      contentSecurityPolicy: false,
      // Forms carry tokens and personal data: no page's URL is sent anywhere.
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: config.secureCookies ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      xFrameOptions: { action: 'deny' },
    })
  },
  { name: 'plusid-security' },
)

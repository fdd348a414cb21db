// Cross-cutting HTTP security: cookies, form bodies, CSRF tokens and response headers.
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import type { Config } from '../config.ts'

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
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          'default-src': ["'none'"],
          'style-src': ["'self'"],
          'img-src': ["'self'", 'data:'],
          'form-action': ["'self'"],
          'frame-ancestors': ["'none'"],
          'base-uri': ["'none'"],
        },
      },
      // Forms carry tokens and personal data: no page's URL is sent anywhere.
      referrerPolicy: { policy: 'no-referrer' },
      strictTransportSecurity: config.secureCookies ? { maxAge: 31_536_000, includeSubDomains: true } : false,
      xFrameOptions: { action: 'deny' },
    })
  },
  { name: 'plusid-security' },
)

// Cross-cutting HTTP security: cookies, form bodies, CSRF tokens and response headers.
import cookie from '@fastify/cookie'
import csrf from '@fastify/csrf-protection'
import formbody from '@fastify/formbody'
import helmet from '@fastify/helmet'
import fp from 'fastify-plugin'
import type { FastifyInstance } from 'fastify'
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

/**
 * The largest request body plusid reads, form or JSON: every form and API body fits in a few KiB.
 * Larger ones are answered 413 before they are parsed (RFC 9110 §15.5.14).
 */
export const BODY_LIMIT_BYTES = 64 * 1024

/**
 * The largest request line plus headers (Node's default, stated so it cannot drift): a request
 * over it gets 431 from the HTTP server itself (RFC 6585 §5), before any route runs. It also
 * bounds every query string, so a GET authorization request is at most this long.
 */
export const HEADER_LIMIT_BYTES = 16 * 1024

/** `__Host-` cookies must be Secure, Path=/ and have no Domain: the browser then refuses any other. */
export function cookieName(config: Config, name: string): string {
  return config.secureCookies ? `__Host-${name}` : name
}

/**
 * U+0000 anywhere in a request's path parameters, query or body is refused with 400 before any
 * route runs: PostgreSQL text cannot hold it (the query would fail with a 500), and no plusid
 * value — name, address, identifier, token — contains it.
 */
export class NulCharacterError extends Error {
  readonly statusCode = 400
  readonly code = 'PLUSID_NUL_CHARACTER'
  constructor() {
    super('the request contains a NUL character (U+0000)')
  }
}

function containsNul(value: unknown, depth = 0): boolean {
  if (typeof value === 'string') return value.includes('\u0000')
  // Values nested deeper than any plusid input are never read, so they need no check.
  if (typeof value !== 'object' || value === null || depth > 16) return false
  return Object.entries(value).some(([key, inner]) => key.includes('\u0000') || containsNul(inner, depth + 1))
}

/** Lets a scope read JSON bodies (with Fastify's own parser: prototype poisoning is an error). */
export function jsonBodies(scope: FastifyInstance): void {
  scope.addContentTypeParser(
    'application/json',
    { parseAs: 'string', bodyLimit: BODY_LIMIT_BYTES },
    scope.getDefaultJsonParser('error', 'error'),
  )
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    await app.register(cookie)
    // Pages and the protocol read form bodies only: JSON (and text/plain) parsers are dropped here,
    // so any other content type gets 415 before a route runs. The two JSON APIs (/admin/api/,
    // /user/v1/deauthorize) add a JSON parser in their own scope (jsonBodies below).
    app.removeAllContentTypeParsers()
    // HTML forms post application/x-www-form-urlencoded; a repeated field arrives as an array.
    await app.register(formbody, { bodyLimit: BODY_LIMIT_BYTES })
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
    app.addHook('preValidation', async (request) => {
      if (containsNul(request.params) || containsNul(request.query) || containsNul(request.body)) throw new NulCharacterError()
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

// The browser session of a request: `request.auth` after the `loadSession` hook; `requireUser`
// sends anonymous visitors to the login page and back.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { acceptSession, parseSessionToken, resolveSession, type ActiveSession, type SessionToken } from '../auth/session.ts'
import { cookieName } from './security.ts'

declare module 'fastify' {
  interface FastifyRequest {
    auth: ActiveSession | null
  }
  interface FastifyReply {
    setSessionCookie(token: string, expiresAt: Date): FastifyReply
    clearSessionCookie(): FastifyReply
  }
  interface FastifyInstance {
    loadSession(request: FastifyRequest, reply: FastifyReply): Promise<void>
    /** The session cookie's parts, for routes that read the session inside a larger query. */
    sessionToken(request: FastifyRequest): SessionToken | null
    /** Sets request.auth from a session row the route read itself (see sessionToken). */
    adoptSession(
      request: FastifyRequest,
      reply: FastifyReply,
      parsed: SessionToken | null,
      found: Parameters<typeof acceptSession>[2],
    ): Promise<void>
    requireUser(request: FastifyRequest, reply: FastifyReply): Promise<void>
    sessionCookieName: string
  }
}

/** A `next` target must stay on this site: a path, never `//host` or `/\host`. */
export function safeNextPath(next: unknown): string | undefined {
  return typeof next === 'string' && /^\/(?![/\\])[\x21-\x7e]*$/.test(next) && next.length <= 2048 ? next : undefined
}

export default fp<{ config: Config }>(
  async (app, { config }) => {
    const name = cookieName(config, 'plusid_session')
    const options = { path: '/', httpOnly: true, sameSite: 'lax' as const, secure: config.secureCookies }
    app.decorate('sessionCookieName', name)
    app.decorateRequest('auth', null)
    app.decorateReply('setSessionCookie', function (this: FastifyReply, token: string, expiresAt: Date) {
      return this.setCookie(name, token, { ...options, expires: expiresAt })
    })
    app.decorateReply('clearSessionCookie', function (this: FastifyReply) {
      return this.clearCookie(name, options)
    })

    const clock = () => ({ now: new Date(), ttlSeconds: config.sessionTtlSeconds, maxAgeSeconds: config.sessionMaxAgeSeconds })
    const adopt = (request: FastifyRequest, reply: FastifyReply, session: ActiveSession | null) => {
      request.auth = session
      if (!session) reply.clearSessionCookie()
      else if (session.renewedUntil) reply.setSessionCookie(session.token, session.renewedUntil)
    }
    app.decorate('loadSession', async (request: FastifyRequest, reply: FastifyReply) => {
      const token = request.cookies[name]
      if (token) adopt(request, reply, await resolveSession(app.db, token, clock()))
    })
    app.decorate('sessionToken', (request: FastifyRequest) => parseSessionToken(request.cookies[name]))
    app.decorate(
      'adoptSession',
      async (request: FastifyRequest, reply: FastifyReply, parsed: SessionToken | null, found: Parameters<typeof acceptSession>[2]) => {
        if (request.cookies[name]) adopt(request, reply, parsed ? await acceptSession(app.db, parsed, found, clock()) : null)
      },
    )

    app.decorate('requireUser', async (request: FastifyRequest, reply: FastifyReply) => {
      await app.loadSession(request, reply)
      if (!request.auth) {
        const next = request.method === 'GET' ? `?next=${encodeURIComponent(request.url)}` : ''
        return reply.redirect(`/login${next}`, 303)
      }
    })
  },
  { name: 'plusid-session', dependencies: ['plusid-security', 'plusid-database'] },
)

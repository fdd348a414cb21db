// The browser session of a request: `request.auth` after the `loadSession` hook; `requireUser`
// sends anonymous visitors to the login page and back.
import fp from 'fastify-plugin'
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { resolveSession, type ActiveSession } from '../auth/session.ts'
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
    /** loadSession, also reading the user's grant to a channel in the same round trip. */
    loadSessionWithGrant(request: FastifyRequest, reply: FastifyReply, channelId: string): Promise<void>
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

    const load = async (request: FastifyRequest, reply: FastifyReply, grantFor?: string) => {
      const token = request.cookies[name]
      if (!token) return
      request.auth = await resolveSession(app.db, token, { now: new Date(), ttlSeconds: config.sessionTtlSeconds }, grantFor)
      if (!request.auth) reply.clearSessionCookie()
      else if (request.auth.renewedUntil) reply.setSessionCookie(request.auth.token, request.auth.renewedUntil)
    }
    app.decorate('loadSession', (request: FastifyRequest, reply: FastifyReply) => load(request, reply))
    app.decorate('loadSessionWithGrant', (request: FastifyRequest, reply: FastifyReply, channelId: string) => load(request, reply, channelId))

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

// GET/POST /oauth2/v2.1/authorize: validate, then either answer the channel at once (a returning
// user with a session and a grant, or an error) or start an interaction (login, consent).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { randomToken } from '../crypto/tokens.ts'
import { authorizationErrorParams, replyToCallback } from '../http/oauth-reply.ts'
import { formBody } from '../http/forms.ts'
import { AuthorizationPageError, resolveChannelAndCallback, validateAuthorizationRequest } from '../oauth/authorize.ts'
import {
  authorizeContext,
  decideNextStep,
  issueAuthorizationCode,
  recordMissingPermission,
  startInteraction,
} from '../oauth/authorization-flow.ts'
import { ENDPOINTS } from '../oauth/discovery.ts'
import { isUnavailable, OAuthError, PermissionMissing } from '../oauth/errors.ts'
import { cookieName, HEADER_LIMIT_BYTES } from '../plugins/security.ts'
import { tooManyFromIp } from './accounts.ts'

export { INTERACTION_TTL_SECONDS, MAX_STORED_REQUEST_BYTES } from '../oauth/authorization-flow.ts'

const UNAVAILABLE = new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable: try again shortly')

export default async function authorizeRoutes(app: FastifyInstance, { config }: { config: Config }) {
  const browserCookie = cookieName(config, 'plusid_browser')
  const issuer = app.oauth.issuer

  /** The browser's interaction key: one random cookie per browser, its hash kept on each interaction. */
  const browserKey = (request: FastifyRequest, reply: FastifyReply): string => {
    const existing = request.cookies[browserCookie]
    if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing
    const key = randomToken()
    reply.setCookie(browserCookie, key, { path: '/', httpOnly: true, sameSite: 'lax', secure: config.secureCookies })
    return key
  }

  const authorize = async (request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>) => {
    const now = new Date()
    // The channel, the session, its user and their grant to the channel: one round trip.
    const sessionToken = app.sessionToken(request)
    const context = await authorizeContext(app.db, params.client_id, sessionToken?.id ?? null)
    const channel = context?.channel
    let target: ReturnType<typeof resolveChannelAndCallback>
    try {
      target = resolveChannelAndCallback(params, channel)
    } catch (error) {
      if (!(error instanceof AuthorizationPageError)) throw error
      // RFC 6749 §4.1.2.1: never redirect to an unverified redirect_uri.
      const t = request.t.bind(request)
      // The switch must not link back to a request naming an unverified redirect_uri.
      request.pagePath = '/'
      return reply.code(400).page('error', {
        title: t('authorize.refusedTitle'),
        heading: t('authorize.refusedHeading'),
        message: t(error.key),
        link: { href: '/', label: t('common.goToPlusid') },
      })
    }
    try {
      const authorization = validateAuthorizationRequest(params, target)
      await app.adoptSession(request, reply, sessionToken, context?.session)
      const session = request.auth
        ? { userId: request.auth.user.id, authTime: request.auth.session.authTime, grant: request.auth.grant ?? null }
        : null
      const next = await decideNextStep(app.oauth, authorization, target.channel, session, false, now)
      if (next.step === 'issue') {
        const code = await issueAuthorizationCode(
          app.oauth,
          app.db,
          authorization,
          { id: request.auth!.session.id, ...session! },
          next.scopes,
          next.amr,
          now,
        )
        return replyToCallback(reply, authorization, { code, state: authorization.state, iss: issuer })
      }
      // Anybody can start an authorization without logging in, and each stores an interaction:
      // those are counted per client IP (a logged-in user's authorize is not, and keeps its round
      // trips), and what one stores is bounded in size (and in lifetime: maintenance.ts).
      if (!request.auth && (await tooManyFromIp(app.rateLimits, request, reply, app.limits.anonymousAuthorizePerIp))) return reply
      const id = await startInteraction(app.db, authorization, browserKey(request, reply), now)
      return reply.header('cache-control', 'no-store').redirect(`/interaction/${id}`, 303)
    } catch (error) {
      // The redirect_uri is verified: the channel hears of the error, a lost database included
      // (RFC 6749 §4.1.2.1 temporarily_unavailable). Before this point it gets the 503 page.
      if (isUnavailable(error)) return replyToCallback(reply, target, authorizationErrorParams(UNAVAILABLE, target, issuer))
      if (!(error instanceof OAuthError)) throw error
      if (error instanceof PermissionMissing) await recordMissingPermission(app.db, target.channel.id, error.items, now)
      return replyToCallback(reply, target, authorizationErrorParams(error, target, issuer))
    }
  }

  app.get(ENDPOINTS.authorization, (request, reply) => authorize(request, reply, request.query as Record<string, unknown>))

  app.post(ENDPOINTS.authorization, (request, reply) => {
    const body = formBody(request.body)
    // A cross-site form POST carries no SameSite=Lax cookies, so the session would look absent:
    // the same request as a GET (a top-level navigation) brings them.
    if (!request.cookies[app.sessionCookieName] && !request.cookies[browserCookie]) {
      const query = new URLSearchParams()
      for (const [name, value] of Object.entries(body)) for (const v of [value].flat()) query.append(name, String(v))
      const location = `${ENDPOINTS.authorization}?${query}`
      // The browser would be refused the GET (431): say so here instead of sending it there.
      if (location.length > HEADER_LIMIT_BYTES / 2) {
        const t = request.t.bind(request)
        return reply.code(413).page('error', {
          title: t('authorize.refusedTitle'),
          heading: t('authorize.refusedHeading'),
          message: t('authorize.tooLarge'),
          link: { href: '/', label: t('common.goToPlusid') },
        })
      }
      return reply.redirect(location, 303)
    }
    return authorize(request, reply, body)
  })
}

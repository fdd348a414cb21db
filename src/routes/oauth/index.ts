// The protocol's JSON endpoints, in one scope whose error handler answers RFC-shaped JSON.
import type { FastifyError, FastifyInstance } from 'fastify'
import { OAuthError } from '../../oauth/errors.ts'
import { replyJsonError } from '../../http/oauth-reply.ts'
import { isUnavailable, RETRY_AFTER_SECONDS } from '../../oauth/errors.ts'
import { BODY_LIMIT_BYTES, NulCharacterError } from '../../plugins/security.ts'
import discovery from './discovery.ts'
import token from './token.ts'
import userinfo from './userinfo.ts'
import profile from './profile.ts'
import verify from './verify.ts'
import revoke from './revoke.ts'
import introspect from './introspect.ts'
import channelToken from './channel-token.ts'
import deauthorize from './deauthorize.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { registerBrowserCors, SpaOrigins } from '../../plugins/cors.ts'

export default async function oauthRoutes(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError | OAuthError, request, reply) => {
    // RFC 6749 §5.2: a client that tried Basic authentication gets a Basic challenge with invalid_client.
    if (error instanceof OAuthError)
      return replyJsonError(reply, error, { basicAuthUsed: /^basic /i.test(request.headers.authorization ?? '') })
    // RFC 6749 §5.2 temporarily_unavailable: the database or the counters cannot be reached.
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, 'protocol request refused: a store is unreachable')
      return replyJsonError(
        reply.header('retry-after', String(RETRY_AFTER_SECONDS)),
        new OAuthError('temporarily_unavailable', 'the service is temporarily unavailable: try again shortly'),
      )
    }
    const status = error.statusCode ?? 500
    // A body over the limit keeps its 413 (RFC 9110 §15.5.14) with an OAuth error body; every other
    // unreadable request — JSON or any other content type included — is RFC 6749 §5.2's
    // invalid_request with 400, the answer an OAuth client expects to parse.
    if (status === 413)
      return replyJsonError(reply, new OAuthError('invalid_request', `the request body is larger than ${BODY_LIMIT_BYTES / 1024} KiB`), {
        status: 413,
      })
    if (status >= 400 && status < 500) {
      const description =
        status === 415
          ? 'Content-Type must be application/x-www-form-urlencoded'
          : error instanceof NulCharacterError
            ? error.message
            : 'the request body could not be read'
      return replyJsonError(reply, new OAuthError('invalid_request', description))
    }
    request.log.error({ err: error }, 'protocol request failed')
    return replyJsonError(reply, new OAuthError('server_error', 'the server could not complete the request'))
  })
  // Browser apps (spa channels) call these from their own origin.
  registerBrowserCors(app, {
    origins: new SpaOrigins(app.db),
    paths: {
      [ENDPOINTS.token]: ['POST'],
      [ENDPOINTS.userinfo]: ['GET', 'POST'],
      [ENDPOINTS.revocation]: ['POST'],
      [ENDPOINTS.verify]: ['GET', 'POST'],
      [ENDPOINTS.profile]: ['GET'],
    },
  })
  await app.register(discovery)
  await app.register(token)
  await app.register(userinfo)
  await app.register(profile)
  await app.register(verify)
  await app.register(revoke)
  await app.register(introspect)
  await app.register(channelToken)
  await app.register(deauthorize)
}

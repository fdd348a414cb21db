// How each endpoint answers an OAuthError (STYLE: the endpoint decides, never the throw site).
import type { FastifyReply } from 'fastify'
import type { ResponseTarget } from '../oauth/authorize.ts'
import { callbackWith } from '../oauth/authorize.ts'
import { safeDescription, type OAuthError } from '../oauth/errors.ts'

/** Token, verify, revoke, introspect: JSON `{error, error_description}`, never cached (RFC 6749 §5.2). */
export function replyJsonError(
  reply: FastifyReply,
  error: OAuthError,
  options: { basicAuthUsed?: boolean; status?: number } = {},
): FastifyReply {
  if (error.code === 'invalid_client' && options.basicAuthUsed) reply.header('www-authenticate', 'Basic realm="plusid"')
  return reply
    .code(options.status ?? error.status)
    .header('cache-control', 'no-store')
    .header('pragma', 'no-cache')
    .send({ error: error.code, error_description: safeDescription(error.description) })
}

/** Userinfo: RFC 6750 §3, the error in WWW-Authenticate and in the body. */
export function replyBearerError(reply: FastifyReply, error: OAuthError | null): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (!error) {
    // No credentials at all: a challenge without an error code (RFC 6750 §3.1).
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="plusid"')
      .send({ error: 'invalid_token', error_description: 'an access token is required' })
  }
  const description = safeDescription(error.description).replace(/"/g, "'")
  return reply
    .code(error.status)
    .header('www-authenticate', `Bearer realm="plusid", error="${error.code}", error_description="${description}"`)
    .send({ error: error.code, error_description: safeDescription(error.description) })
}

/** The parameters of an authorization response: the code or error, `state`, and `iss` (RFC 9207). */
export function authorizationErrorParams(error: OAuthError, target: ResponseTarget, issuer: string): Record<string, string | undefined> {
  return {
    error: target.errorStyle === 'line' ? error.code.toUpperCase() : error.code,
    error_description: safeDescription(error.description),
    state: target.state,
    iss: issuer,
  }
}

/**
 * Sends the browser back to the verified callback: a redirect with a query, or an auto-posting
 * form. The redirect is 303 when it answers a form post (the consent or login form, POST
 * authorize), so no browser repeats the POST at the callback (RFC 9700 §4.12); 302 otherwise.
 */
export function replyToCallback(reply: FastifyReply, target: ResponseTarget, params: Record<string, string | undefined>): FastifyReply {
  reply.header('cache-control', 'no-store')
  if (target.responseMode === 'form_post') {
    const fields = Object.entries(params).filter((entry): entry is [string, string] => entry[1] !== undefined)
    return reply.page(
      'form-post',
      { title: reply.request.t('formPost.title'), action: target.redirectUri, fields },
      { formAction: [target.redirectUri], script: true },
    )
  }
  return reply.redirect(callbackWith(target.redirectUri, params), reply.request.method === 'POST' ? 303 : 302)
}

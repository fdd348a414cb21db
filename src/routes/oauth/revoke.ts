// POST /oauth2/v2.1/revoke: LINE's form (access_token, client_id, client_secret) and RFC 7009's
// (token, token_type_hint). Unknown tokens answer 200 too (RFC 7009 §2.2).
import type { FastifyInstance } from 'fastify'
import { authenticateChannel, readClientCredentials } from '../../oauth/client-auth.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { revokeToken, type TokenTypeHint } from '../../oauth/revocation.ts'
import { requireForm } from './token.ts'

export function tokenParameter(body: Record<string, unknown>): { token: string; hint: TokenTypeHint } {
  const token = body.token ?? body.access_token
  if (typeof token !== 'string' || token === '')
    throw new OAuthError('invalid_request', Array.isArray(token) ? 'token was given more than once' : 'token is required')
  const hint = body.token_type_hint
  if (hint !== undefined && hint !== 'access_token' && hint !== 'refresh_token') {
    // RFC 7009 §2.2.1: an unknown hint is not an error; the token is searched everywhere.
    return { token, hint: undefined }
  }
  return { token, hint: body.access_token !== undefined ? 'access_token' : (hint as TokenTypeHint) }
}

export default async function revokeRoute(app: FastifyInstance) {
  app.post(ENDPOINTS.revocation, async (request, reply) => {
    const body = requireForm(request.headers['content-type'], request.body)
    const credentials = readClientCredentials(request.headers.authorization, body)
    const channel = await authenticateChannel(app.db, credentials)
    const { token, hint } = tokenParameter(body)
    await revokeToken(app.db, channel, token, hint, new Date())
    return reply.header('cache-control', 'no-store').code(200).send()
  })
}

// GET/POST /oauth2/v2.1/userinfo (OIDC Core §5.3): the granted claims of the token's user.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { replyBearerError } from '../../http/oauth-reply.ts'
import { bearerToken, lookupAccessToken } from '../../oauth/bearer.ts'
import { scopeClaims } from '../../oauth/claims.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { pairwiseSubject } from '../../oauth/subject.ts'
import { formBody } from '../../http/forms.ts'

export default async function userinfoRoute(app: FastifyInstance) {
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    let accessToken: string | undefined
    try {
      accessToken = bearerToken(request.headers.authorization, request.method === 'POST' ? formBody(request.body) : undefined)
    } catch (error) {
      if (error instanceof OAuthError) return replyBearerError(reply, error)
      throw error
    }
    if (!accessToken) return replyBearerError(reply, null)
    const state = await lookupAccessToken(app.db, accessToken, new Date())
    if (!state.valid)
      return replyBearerError(
        reply,
        new OAuthError('invalid_token', `the access token is ${state.reason === 'unknown' ? 'not valid' : state.reason}`),
      )
    const { token } = state
    if (!token.scopes.includes('openid'))
      return replyBearerError(reply, new OAuthError('insufficient_scope', 'userinfo needs the openid scope'))
    return reply
      .header('cache-control', 'no-store')
      .send({ sub: pairwiseSubject(token.pairwiseSecret, token.userId), ...scopeClaims(token.scopes, token.user) })
  }
  app.get(ENDPOINTS.userinfo, handler)
  app.post(ENDPOINTS.userinfo, handler)
}

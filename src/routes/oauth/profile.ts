// GET /v2/profile (LINE Login v2.1): LINE's profile, needs the `profile` scope. Errors use
// LINE's API envelope `{"message": …}`.
import type { FastifyInstance } from 'fastify'
import { bearerToken, lookupAccessToken } from '../../oauth/bearer.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { pairwiseSubject } from '../../oauth/subject.ts'

export default async function profileRoute(app: FastifyInstance) {
  app.get(ENDPOINTS.profile, async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const accessToken = bearerToken(request.headers.authorization, undefined)
    if (!accessToken)
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="plusid"')
        .send({ message: 'Authentication failed. Confirm that the access token in the authorization header is valid.' })
    const state = await lookupAccessToken(app.db, accessToken, new Date())
    if (!state.valid) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="plusid", error="invalid_token"')
        .send({ message: 'The access token is invalid, expired or revoked.' })
    }
    const { token } = state
    if (!token.scopes.includes('profile')) {
      return reply
        .code(403)
        .header('www-authenticate', 'Bearer realm="plusid", error="insufficient_scope"')
        .send({ message: 'Not allowed to use this API: the access token lacks the profile scope.' })
    }
    return reply.send({
      userId: pairwiseSubject(token.pairwiseSecret, token.userId),
      displayName: token.user.displayName,
      ...(token.user.pictureUrl ? { pictureUrl: token.user.pictureUrl } : {}),
    })
  })
}

// POST /oauth2/v2.1/introspect (RFC 7662), for authenticated confidential channels.
import type { FastifyInstance } from 'fastify'
import { authenticateChannel, CLIENT_AUTHENTICATION_FAILED, readClientCredentials } from '../../oauth/client-auth.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { introspectToken } from '../../oauth/revocation.ts'
import { tokenParameter } from './revoke.ts'
import { requireForm } from './token.ts'

export default async function introspectRoute(app: FastifyInstance) {
  app.post(ENDPOINTS.introspection, async (request, reply) => {
    const body = requireForm(request.headers['content-type'], request.body)
    const credentials = readClientCredentials(request.headers.authorization, body)
    const channel = await authenticateChannel(app.db, credentials)
    if (channel.isPublic) throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
    const { token, hint } = tokenParameter(body)
    return reply.header('cache-control', 'no-store').send(await introspectToken(app.db, channel, token, hint, new Date()))
  })
}

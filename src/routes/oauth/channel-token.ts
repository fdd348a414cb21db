// POST /oauth2/v3/token: client_credentials → a channel access token for 15 minutes
// (LINE Login v2.1), needed by /user/v1/deauthorize.
import type { FastifyInstance } from 'fastify'
import { authenticateChannel, CLIENT_AUTHENTICATION_FAILED, readClientCredentials } from '../../oauth/client-auth.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { CHANNEL_TOKEN_TTL_SECONDS, issueChannelAccessToken } from '../../oauth/channel-tokens.ts'
import { requireForm } from './token.ts'

export default async function channelTokenRoute(app: FastifyInstance) {
  app.post(ENDPOINTS.channelToken, async (request, reply) => {
    const body = requireForm(request.headers['content-type'], request.body)
    if (body.grant_type !== 'client_credentials') {
      throw new OAuthError(
        body.grant_type === undefined ? 'invalid_request' : 'unsupported_grant_type',
        body.grant_type === undefined ? 'grant_type is required' : 'grant_type must be client_credentials',
      )
    }
    const credentials = readClientCredentials(request.headers.authorization, body)
    const channel = await authenticateChannel(app.db, credentials)
    if (channel.isPublic) throw new OAuthError('invalid_client', CLIENT_AUTHENTICATION_FAILED)
    if (channel.suspendedAt) throw new OAuthError('unauthorized_client', 'the channel is suspended')
    const token = await issueChannelAccessToken(app.db, channel.id, new Date())
    return reply
      .header('cache-control', 'no-store')
      .send({ token_type: 'Bearer', access_token: token, expires_in: CHANNEL_TOKEN_TTL_SECONDS })
  })
}

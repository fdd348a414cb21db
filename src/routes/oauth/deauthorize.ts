// POST /user/v1/deauthorize (LINE Login v2.1): a channel unlinks a user, with a channel
// access token from /oauth2/v3/token and the user's access token. The grant and every token of
// that user for that channel die at once; the next login asks for consent again.
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import { channelOfAccessToken, unlinkByChannel, userOfChannelAccessToken } from '../../oauth/channel-tokens.ts'
import { jsonBodies } from '../../plugins/security.ts'

const Body = z.object({ userAccessToken: z.string() })

export default async function deauthorizeRoute(app: FastifyInstance) {
  jsonBodies(app)
  app.post('/user/v1/deauthorize', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const authorization = request.headers.authorization
    const channelToken = authorization && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : ''
    const channelId = await channelOfAccessToken(app.db, channelToken, new Date())
    if (!channelId) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="plusid", error="invalid_token"')
        .send({ message: 'Authentication failed. Confirm that the channel access token is valid.' })
    }
    const body = Body.safeParse(request.body)
    if (!body.success) return reply.code(400).send({ message: 'The request body must be JSON {"userAccessToken": "…"}' })
    const userId = await userOfChannelAccessToken(app.db, channelId, body.data.userAccessToken)
    // Another channel's user token, an unknown one, or one already unlinked: LINE's answer.
    if (!userId) return reply.code(400).send({ message: 'invalid token' })
    await unlinkByChannel(app.db, userId, channelId, request.ip)
    return reply.code(204).send()
  })
}

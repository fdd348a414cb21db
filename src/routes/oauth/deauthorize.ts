// POST /user/v1/deauthorize (LINE Login v2.1): a channel unlinks a user, with a channel
// access token from /oauth2/v3/token and the user's access token. The grant and every token of
// that user for that channel die at once; the next login asks for consent again.
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import { sha256, TOKEN_FORMAT } from '../../crypto/tokens.ts'
import { appendAudit } from '../../storage/audit.ts'
import { findAccessToken, findChannelAccessToken } from '../../storage/oauth-tokens.ts'
import { unlinkChannel } from '../../storage/user-data.ts'
import { jsonBodies } from '../../plugins/security.ts'

const Body = z.object({ userAccessToken: z.string() })

export default async function deauthorizeRoute(app: FastifyInstance) {
  jsonBodies(app)
  app.post('/user/v1/deauthorize', async (request, reply) => {
    reply.header('cache-control', 'no-store')
    const authorization = request.headers.authorization
    const channelToken = authorization && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : ''
    const channel = TOKEN_FORMAT.test(channelToken) ? await findChannelAccessToken(app.db, sha256(channelToken)) : undefined
    if (!channel || channel.expiresAt.getTime() <= Date.now()) {
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer realm="plusid", error="invalid_token"')
        .send({ message: 'Authentication failed. Confirm that the channel access token is valid.' })
    }
    const body = Body.safeParse(request.body)
    if (!body.success) return reply.code(400).send({ message: 'The request body must be JSON {"userAccessToken": "…"}' })
    const token = TOKEN_FORMAT.test(body.data.userAccessToken)
      ? await findAccessToken(app.db, sha256(body.data.userAccessToken))
      : undefined
    // Another channel's user token, an unknown one, or one already unlinked: LINE's answer.
    if (!token || token.channelId !== channel.channelId || token.revokedAt) return reply.code(400).send({ message: 'invalid token' })
    await app.db.transaction().execute(async (trx) => {
      await unlinkChannel(trx, token.userId, channel.channelId)
      await appendAudit(trx, {
        actorId: token.userId,
        actorKind: 'channel',
        ip: request.ip,
        action: 'grant.revoked',
        objectType: 'channel',
        objectId: channel.channelId,
        details: { by: 'channel' },
      })
    })
    return reply.code(204).send()
  })
}

// LINE's verify endpoint (LINE Login v2.1): GET checks an access token, POST an ID token.
// Errors are 400 `invalid_request` with LINE's own description texts.
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import { replyJsonError } from '../../http/oauth-reply.ts'
import { parseParams } from '../../http/parse.ts'
import { lookupAccessToken } from '../../oauth/bearer.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { IdTokenError, verifyIdToken, type IdTokenProblem } from '../../oauth/id-token.ts'
import { channelById } from '../../oauth/channel-tokens.ts'
import { requireForm } from './token.ts'

const ACCESS_TOKEN_PROBLEMS = {
  malformed: 'The access token not JWS',
  unknown: 'The access token revoked',
  revoked: 'The access token revoked',
  expired: 'The access token expired',
} as const

const ID_TOKEN_PROBLEMS: Record<IdTokenProblem, string> = {
  malformed: 'Invalid IdToken.',
  signature: 'Invalid IdToken.',
  issuer: 'Invalid IdToken Issuer.',
  expired: 'IdToken expired.',
  audience: 'Invalid IdToken Audience.',
}

const VerifyIdToken = z.object({
  id_token: z.string().min(1, 'is required'),
  client_id: z.string().min(1, 'is required'),
  nonce: z.string().optional(),
  user_id: z.string().optional(),
})

export default async function verifyRoutes(app: FastifyInstance) {
  app.get(ENDPOINTS.verify, async (request, reply) => {
    const { access_token: accessToken } = parseParams(z.object({ access_token: z.string().min(1, 'is required') }), request.query)
    const state = await lookupAccessToken(app.db, accessToken, new Date())
    if (!state.valid) return replyJsonError(reply, new OAuthError('invalid_request', ACCESS_TOKEN_PROBLEMS[state.reason]))
    const { token } = state
    return reply.header('cache-control', 'no-store').send({
      scope: token.scopes.join(' '),
      client_id: token.channelId,
      expires_in: Math.max(0, Math.floor((token.expiresAt.getTime() - Date.now()) / 1000)),
    })
  })

  app.post(ENDPOINTS.verify, async (request, reply) => {
    const params = parseParams(VerifyIdToken, requireForm(request.headers['content-type'], request.body))
    let payload: Awaited<ReturnType<typeof verifyIdToken>>
    try {
      payload = await verifyIdToken(params.id_token, {
        issuer: app.oauth.issuer,
        keys: app.oauth.keys,
        masterKey: app.oauth.masterKey,
        channel: (aud) => channelById(app.db, aud),
      })
    } catch (error) {
      if (error instanceof IdTokenError) return replyJsonError(reply, new OAuthError('invalid_request', ID_TOKEN_PROBLEMS[error.problem]))
      throw error
    }
    if (payload.aud !== params.client_id) return replyJsonError(reply, new OAuthError('invalid_request', 'Invalid IdToken Audience.'))
    // A nonce given must be the token's.
    if (params.nonce !== undefined && params.nonce !== payload.nonce) {
      return replyJsonError(reply, new OAuthError('invalid_request', 'Invalid IdToken Nonce.'))
    }
    if (params.user_id !== undefined && params.user_id !== payload.sub)
      return replyJsonError(reply, new OAuthError('invalid_request', 'Invalid IdToken Subject Identifier.'))
    return reply.header('cache-control', 'no-store').send(payload)
  })
}

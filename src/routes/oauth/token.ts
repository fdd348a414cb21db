// POST /oauth2/v2.1/token: authorization_code and refresh_token (RFC 6749 §4.1.3, §6).
import { z } from 'zod'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { parseParams } from '../../http/parse.ts'
import { readClientCredentials } from '../../oauth/client-auth.ts'
import { ENDPOINTS } from '../../oauth/discovery.ts'
import { OAuthError } from '../../oauth/errors.ts'
import { exchangeAuthorizationCode } from '../../oauth/grants/authorization-code.ts'
import { refreshTokens } from '../../oauth/grants/refresh-token.ts'
import { formBody } from '../../http/forms.ts'

const TokenRequest = z.discriminatedUnion('grant_type', [
  z.object({
    grant_type: z.literal('authorization_code'),
    code: z.string().min(1, 'is required'),
    redirect_uri: z.string().min(1, 'is required'),
    code_verifier: z.string().optional(),
  }),
  z.object({ grant_type: z.literal('refresh_token'), refresh_token: z.string().min(1, 'is required'), scope: z.string().optional() }),
])

export default async function tokenRoute(app: FastifyInstance) {
  // Failed token requests are counted per IP in the shared store; once an IP is over the limit,
  // this process refuses it from memory until the window ends — successes cost no round trip.
  const blocked = new Map<string, number>()

  app.post(ENDPOINTS.token, async (request, reply) => {
    const until = blocked.get(request.ip)
    if (until !== undefined) {
      if (until > Date.now()) {
        return reply
          .code(429)
          .header('retry-after', String(Math.ceil((until - Date.now()) / 1000)))
          .header('cache-control', 'no-store')
          .send({ error: 'invalid_request', error_description: 'too many failed requests from this address: try again later' })
      }
      blocked.delete(request.ip)
    }
    try {
      return await issueTokens(app, request.headers, request.body, request.ip, reply)
    } catch (error) {
      // A refused request is counted before it is answered; a store that cannot count it turns
      // the answer into 503 (fail closed), like a login.
      if (error instanceof OAuthError && error.status < 500) {
        const { retryAfter } = await app.rateLimits.hit(app.limits.tokenFailuresPerIp, request.ip, new Date())
        if (retryAfter !== null) blocked.set(request.ip, Date.now() + retryAfter * 1000)
      }
      throw error
    }
  })
}

async function issueTokens(app: FastifyInstance, headers: FastifyRequest['headers'], rawBody: unknown, ip: string, reply: FastifyReply) {
  const body = requireForm(headers['content-type'], rawBody)
  const grantType = body.grant_type
  if (grantType === undefined || grantType === '') throw new OAuthError('invalid_request', 'grant_type is required')
  if (grantType !== 'authorization_code' && grantType !== 'refresh_token') {
    throw new OAuthError(
      typeof grantType === 'string' ? 'unsupported_grant_type' : 'invalid_request',
      typeof grantType === 'string' ? `unsupported grant_type: ${grantType}` : 'grant_type was given more than once',
    )
  }
  const params = parseParams(TokenRequest, body)
  const credentials = readClientCredentials(headers.authorization, body)
  const now = new Date()
  // Each grant authenticates the channel with the row it reads anyway (one round trip less).
  const tokens =
    params.grant_type === 'authorization_code'
      ? await exchangeAuthorizationCode(app.oauth, credentials, ip, params, now)
      : await refreshTokens(app.oauth, credentials, ip, params, now)
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache').send(tokens)
}

/**
 * Token-style endpoints take form bodies only (RFC 6749 §3.2), with each parameter at most once
 * (§3.1: "Request and response parameters MUST NOT be included more than once").
 */
export function requireForm(contentType: string | undefined, body: unknown): Record<string, unknown> {
  if (!contentType?.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
    throw new OAuthError('invalid_request', 'Content-Type must be application/x-www-form-urlencoded')
  }
  const form = formBody(body)
  for (const [name, value] of Object.entries(form)) {
    if (typeof value !== 'string') throw new OAuthError('invalid_request', `${name} was given more than once`)
  }
  return form
}

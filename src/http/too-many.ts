// The HTTP answer to a form post over its per-IP limit (the login and registration pages).
import type { FastifyReply, FastifyRequest } from 'fastify'
import type { Limit, RateLimitStore } from '../security/rate-limits.ts'

/**
 * Counts a form post against a per-IP limit; over it, answers 429 with Retry-After and a page
 * saying when to try again, and returns true. A store that cannot count throws: the post is
 * refused with 503 rather than let through uncounted (fail closed).
 */
export async function tooManyFromIp(
  counters: RateLimitStore,
  request: FastifyRequest,
  reply: FastifyReply,
  limit: Limit,
): Promise<boolean> {
  const { retryAfter } = await counters.hit(limit, request.ip, new Date())
  if (retryAfter === null) return false
  request.log.warn({ limit: limit.name }, 'rate limit exceeded')
  reply
    .code(429)
    .header('retry-after', String(retryAfter))
    .page('error', {
      title: request.t('rateLimit.title'),
      heading: request.t('rateLimit.title'),
      message: request.t('rateLimit.message', { seconds: retryAfter }),
    })
  return true
}

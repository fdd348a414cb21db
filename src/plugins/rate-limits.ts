// Gives every route `app.limits` (the per-IP limits of the config) and `app.rateLimits`, the store
// the counters live in, picked once by buildApp: the routes never ask which one it is. The store
// is closed with the app.
import fp from 'fastify-plugin'
import type { Limits, RateLimitStore } from '../security/rate-limits.ts'

declare module 'fastify' {
  interface FastifyInstance {
    /** Per-IP rate limits from the config. */
    limits: Limits
    /** Rate-limit and lockout counters: PostgreSQL, or Redis when REDIS_URL is set. */
    rateLimits: RateLimitStore
  }
}

export default fp<{ limits: Limits; store: RateLimitStore }>(
  async (app, { limits, store }) => {
    app.decorate('limits', limits)
    app.decorate('rateLimits', store)
    app.addHook('onClose', () => store.close())
  },
  { name: 'plusid-rate-limits' },
)

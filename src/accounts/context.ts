// What the account use cases need from the app: the database, the login counters and the session
// lifetimes. Routes build it once (accountsContext) and pass it to every use case.
import type { Kysely } from 'kysely'
import type { Config } from '../config.ts'
import type { SessionClock } from '../auth/session.ts'
import type { RateLimitStore } from '../security/rate-limits.ts'
import type { DB } from '../storage/schema.ts'

export interface AccountsContext {
  db: Kysely<DB>
  counters: RateLimitStore
  sessionTtlSeconds: number
  sessionMaxAgeSeconds: number
}

/** Where a request came from: the session and audit records keep it (never the email typed). */
export interface RequestOrigin {
  ip: string
  userAgent: string | null
}

export function accountsContext(
  app: { db: Kysely<DB>; rateLimits: RateLimitStore },
  config: Pick<Config, 'sessionTtlSeconds' | 'sessionMaxAgeSeconds'>,
): AccountsContext {
  return {
    db: app.db,
    counters: app.rateLimits,
    sessionTtlSeconds: config.sessionTtlSeconds,
    sessionMaxAgeSeconds: config.sessionMaxAgeSeconds,
  }
}

export function sessionClock(ctx: AccountsContext, now: Date): SessionClock {
  return { now, ttlSeconds: ctx.sessionTtlSeconds, maxAgeSeconds: ctx.sessionMaxAgeSeconds }
}

/** The request's origin as sessions record it (the User-Agent header only when it is one string). */
export function originOf(request: { ip: string; headers: Record<string, unknown> }): RequestOrigin {
  const userAgent = request.headers['user-agent']
  return { ip: request.ip, userAgent: typeof userAgent === 'string' ? userAgent : null }
}

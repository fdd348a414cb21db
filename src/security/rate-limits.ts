// Rate limits and account lockout, counted in a store every plusid process shares: PostgreSQL
// (table rate_limits) by default, Redis when REDIS_URL is set (security/redis-rate-limits.ts).
// buildApp picks the store once; routes see only the RateLimitStore interface.
//  - Per IP, fixed windows: logins, registrations, and failed token requests (a success adds no
//    round trip to the token endpoint's hot path; brute force is made of failures).
//  - Per account (keyed by the email's lookup HMAC, so an unknown email is counted and locked
//    exactly like a real one and the answers cannot tell them apart): after 5 failures each
//    attempt waits 1, 2, 4, 8, 16 s; after 10 the account is locked for 15 minutes, during which
//    even the right password gets the generic failure. A success clears the count.
import { sql } from 'kysely'
import type { Config } from '../config.ts'
import type { Executor } from '../storage/database.ts'

export interface Limit {
  name: string
  max: number
  windowSeconds: number
}

export interface Limits {
  loginPerIp: Limit
  registerPerIp: Limit
  tokenFailuresPerIp: Limit
  /** Authorizations started without a session (each stores an interaction). */
  anonymousAuthorizePerIp: Limit
}

export function limitsFrom(
  config: Pick<
    Config,
    'loginsPerIpPerMinute' | 'registrationsPerIpPerHour' | 'tokenFailuresPerIpPerMinute' | 'anonymousAuthorizationsPerIpPerMinute'
  >,
): Limits {
  return {
    loginPerIp: { name: 'login-ip', max: config.loginsPerIpPerMinute, windowSeconds: 60 },
    registerPerIp: { name: 'register-ip', max: config.registrationsPerIpPerHour, windowSeconds: 3600 },
    tokenFailuresPerIp: { name: 'token-fail-ip', max: config.tokenFailuresPerIpPerMinute, windowSeconds: 60 },
    anonymousAuthorizePerIp: { name: 'authorize-ip', max: config.anonymousAuthorizationsPerIpPerMinute, windowSeconds: 60 },
  }
}

export const ACCOUNT_DELAY_AFTER = 5
export const ACCOUNT_LOCK_AFTER = 10
export const ACCOUNT_LOCK_SECONDS = 15 * 60
export const ACCOUNT_WINDOW_SECONDS = 15 * 60

/** How long an account must wait after its `failures`-th failure in a row: 0, then 1, 2, 4, 8, 16 s, then locked. */
export function accountBlockSeconds(failures: number): number {
  if (failures >= ACCOUNT_LOCK_AFTER) return ACCOUNT_LOCK_SECONDS
  return failures >= ACCOUNT_DELAY_AFTER ? 2 ** (failures - ACCOUNT_DELAY_AFTER) : 0
}

export interface HitResult {
  count: number
  /** Seconds until the window ends, set once the limit is exceeded. */
  retryAfter: number | null
}

/**
 * Where the counters live. Every operation is atomic in the store, so concurrent attempts on any
 * number of processes are counted exactly. A store that cannot be reached throws an error
 * isUnavailable() recognises, and the request is refused with 503 (fail closed).
 */
export interface RateLimitStore {
  readonly kind: 'postgres' | 'redis'
  /** Counts one hit of `limit` by `subject` (an IP). */
  hit(limit: Limit, subject: string, now: Date): Promise<HitResult>
  /** Whether the account may try a password now (false while delayed or locked), and whether it has failures counted. */
  accountMayTry(lookup: Uint8Array, now: Date): Promise<{ mayTry: boolean; hasFailures: boolean }>
  /** Records a failed password for the account and sets its delay or lock; returns the failures counted. */
  recordAccountFailure(lookup: Uint8Array, now: Date): Promise<number>
  clearAccountFailures(lookup: Uint8Array): Promise<void>
  close(): Promise<void>
}

export const counterKey = (limit: Limit, subject: string) => `${limit.name}:${subject}`
export const accountKey = (lookup: Uint8Array) => `account:${Buffer.from(lookup).toString('hex')}`

export const retryAfterSeconds = (windowEndsMs: number, nowMs: number) => Math.max(1, Math.ceil((windowEndsMs - nowMs) / 1000))

/** The counters in PostgreSQL: one row per key; the upsert that counts takes the row's lock. */
export function postgresRateLimits(db: Executor): RateLimitStore {
  return {
    kind: 'postgres',

    async hit(limit, subject, now) {
      const windowStart = new Date(now.getTime() - limit.windowSeconds * 1000)
      const { rows } = await sql<{ count: number; window_start: Date }>`
        INSERT INTO rate_limits (key, count, window_start) VALUES (${counterKey(limit, subject)}, 1, ${now})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN rate_limits.window_start <= ${windowStart} THEN 1 ELSE rate_limits.count + 1 END,
          window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
        RETURNING count, window_start`.execute(db)
      const row = rows[0]!
      if (row.count <= limit.max) return { count: row.count, retryAfter: null }
      return { count: row.count, retryAfter: retryAfterSeconds(row.window_start.getTime() + limit.windowSeconds * 1000, now.getTime()) }
    },

    async accountMayTry(lookup, now) {
      const row = await db.selectFrom('rate_limits').select('blocked_until').where('key', '=', accountKey(lookup)).executeTakeFirst()
      return { mayTry: !row?.blocked_until || row.blocked_until.getTime() <= now.getTime(), hasFailures: row !== undefined }
    },

    async recordAccountFailure(lookup, now) {
      const windowStart = new Date(now.getTime() - ACCOUNT_WINDOW_SECONDS * 1000)
      const { rows } = await sql<{ count: number }>`
        INSERT INTO rate_limits (key, count, window_start) VALUES (${accountKey(lookup)}, 1, ${now})
        ON CONFLICT (key) DO UPDATE SET
          count = CASE WHEN rate_limits.window_start <= ${windowStart} AND (rate_limits.blocked_until IS NULL OR rate_limits.blocked_until <= ${now}) THEN 1 ELSE rate_limits.count + 1 END,
          window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
        RETURNING count`.execute(db)
      const failures = rows[0]!.count
      const blockSeconds = accountBlockSeconds(failures)
      if (blockSeconds > 0) {
        await db
          .updateTable('rate_limits')
          .set({ blocked_until: new Date(now.getTime() + blockSeconds * 1000) })
          .where('key', '=', accountKey(lookup))
          .execute()
      }
      return failures
    },

    async clearAccountFailures(lookup) {
      await db.deleteFrom('rate_limits').where('key', '=', accountKey(lookup)).execute()
    },

    // The database belongs to the app, which closes it.
    async close() {},
  }
}

/** Counters whose window ended a day ago and that block nothing are deleted by the cleanup. */
export async function deleteOldCounters(db: Executor, now: Date, batchSize: number): Promise<number> {
  const before = new Date(now.getTime() - 24 * 3600 * 1000)
  const result = await sql`DELETE FROM rate_limits WHERE key IN (
    SELECT key FROM rate_limits WHERE window_start <= ${before} AND (blocked_until IS NULL OR blocked_until <= ${now}) LIMIT ${batchSize})`.execute(
    db,
  )
  return Number(result.numAffectedRows ?? 0)
}

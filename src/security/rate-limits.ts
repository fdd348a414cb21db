// Rate limits and account lockout, counted in a store every plusid process shares: PostgreSQL
// (table rate_limits) by default, Redis when REDIS_URL is set (security/redis-rate-limits.ts).
// buildApp picks the store once; routes see only the RateLimitStore interface.
//  - Per IP, fixed windows: logins, registrations, and failed token requests (a success adds no
//    round trip to the token endpoint's hot path; brute force is made of failures).
//  - Per account (keyed by the email's lookup HMAC, so an unknown email is counted and locked
//    exactly like a real one and the answers cannot tell them apart): after 5 failures each
//    attempt waits 1, 2, 4, 8, 16 s; after 10 the account is locked for 15 minutes, during which
//    even the right password gets the generic failure. A success clears the count.
import type { Config } from '../config.ts'
import type { Executor } from '../storage/database.ts'
import { blockCounter, countFailure, countHit, deleteCounter, findCounterBlock } from '../storage/rate-limits.ts'

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

/** The counters in PostgreSQL (storage/rate-limits.ts). */
export function postgresRateLimits(db: Executor): RateLimitStore {
  return {
    kind: 'postgres',

    async hit(limit, subject, now) {
      const windowStart = new Date(now.getTime() - limit.windowSeconds * 1000)
      const row = await countHit(db, counterKey(limit, subject), now, windowStart)
      if (row.count <= limit.max) return { count: row.count, retryAfter: null }
      return { count: row.count, retryAfter: retryAfterSeconds(row.windowStart.getTime() + limit.windowSeconds * 1000, now.getTime()) }
    },

    async accountMayTry(lookup, now) {
      const row = await findCounterBlock(db, accountKey(lookup))
      return { mayTry: !row?.blockedUntil || row.blockedUntil.getTime() <= now.getTime(), hasFailures: row !== undefined }
    },

    async recordAccountFailure(lookup, now) {
      const windowStart = new Date(now.getTime() - ACCOUNT_WINDOW_SECONDS * 1000)
      const failures = await countFailure(db, accountKey(lookup), now, windowStart)
      const blockSeconds = accountBlockSeconds(failures)
      if (blockSeconds > 0) await blockCounter(db, accountKey(lookup), new Date(now.getTime() + blockSeconds * 1000))
      return failures
    },

    async clearAccountFailures(lookup) {
      await deleteCounter(db, accountKey(lookup))
    },

    // The database belongs to the app, which closes it.
    async close() {},
  }
}

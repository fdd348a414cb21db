// Rate limits and account lockout, counted in PostgreSQL so every process sees the same numbers.
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
}

export function limitsFrom(config: Pick<Config, 'loginsPerIpPerMinute' | 'registrationsPerIpPerHour' | 'tokenFailuresPerIpPerMinute'>): Limits {
  return {
    loginPerIp: { name: 'login-ip', max: config.loginsPerIpPerMinute, windowSeconds: 60 },
    registerPerIp: { name: 'register-ip', max: config.registrationsPerIpPerHour, windowSeconds: 3600 },
    tokenFailuresPerIp: { name: 'token-fail-ip', max: config.tokenFailuresPerIpPerMinute, windowSeconds: 60 },
  }
}

export const ACCOUNT_DELAY_AFTER = 5
export const ACCOUNT_LOCK_AFTER = 10
export const ACCOUNT_LOCK_SECONDS = 15 * 60
const ACCOUNT_WINDOW_SECONDS = 15 * 60

/** Counts one hit; `retryAfter` (seconds) is set when the limit is exceeded. */
export async function hit(db: Executor, limit: Limit, subject: string, now: Date): Promise<{ count: number; retryAfter: number | null }> {
  const windowStart = new Date(now.getTime() - limit.windowSeconds * 1000)
  const { rows } = await sql<{ count: number; window_start: Date }>`
    INSERT INTO rate_limits (key, count, window_start) VALUES (${`${limit.name}:${subject}`}, 1, ${now})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limits.window_start <= ${windowStart} THEN 1 ELSE rate_limits.count + 1 END,
      window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
    RETURNING count, window_start`.execute(db)
  const row = rows[0]!
  if (row.count <= limit.max) return { count: row.count, retryAfter: null }
  return { count: row.count, retryAfter: Math.max(1, Math.ceil((row.window_start.getTime() + limit.windowSeconds * 1000 - now.getTime()) / 1000)) }
}

const accountKey = (lookup: Uint8Array) => `account:${Buffer.from(lookup).toString('hex')}`

/** Whether the account may try a password now (false while delayed or locked), and whether it has failures counted. */
export async function accountMayTry(db: Executor, lookup: Uint8Array, now: Date): Promise<{ mayTry: boolean; hasFailures: boolean }> {
  const row = await db.selectFrom('rate_limits').select('blocked_until').where('key', '=', accountKey(lookup)).executeTakeFirst()
  return { mayTry: !row?.blocked_until || row.blocked_until.getTime() <= now.getTime(), hasFailures: row !== undefined }
}

/** Records a failed password for the account and sets its delay or lock. */
export async function recordAccountFailure(db: Executor, lookup: Uint8Array, now: Date): Promise<number> {
  const windowStart = new Date(now.getTime() - ACCOUNT_WINDOW_SECONDS * 1000)
  const { rows } = await sql<{ count: number }>`
    INSERT INTO rate_limits (key, count, window_start) VALUES (${accountKey(lookup)}, 1, ${now})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limits.window_start <= ${windowStart} AND (rate_limits.blocked_until IS NULL OR rate_limits.blocked_until <= ${now}) THEN 1 ELSE rate_limits.count + 1 END,
      window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
    RETURNING count`.execute(db)
  const failures = rows[0]!.count
  const blockSeconds = failures >= ACCOUNT_LOCK_AFTER ? ACCOUNT_LOCK_SECONDS : failures >= ACCOUNT_DELAY_AFTER ? 2 ** (failures - ACCOUNT_DELAY_AFTER) : 0
  if (blockSeconds > 0) {
    await db.updateTable('rate_limits').set({ blocked_until: new Date(now.getTime() + blockSeconds * 1000) }).where('key', '=', accountKey(lookup)).execute()
  }
  return failures
}

export async function clearAccountFailures(db: Executor, lookup: Uint8Array): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', accountKey(lookup)).execute()
}

/** Counters whose window ended a day ago and that block nothing are deleted by the cleanup. */
export async function deleteOldCounters(db: Executor, now: Date, batchSize: number): Promise<number> {
  const before = new Date(now.getTime() - 24 * 3600 * 1000)
  const result = await sql`DELETE FROM rate_limits WHERE key IN (
    SELECT key FROM rate_limits WHERE window_start <= ${before} AND (blocked_until IS NULL OR blocked_until <= ${now}) LIMIT ${batchSize})`.execute(db)
  return Number(result.numAffectedRows ?? 0)
}

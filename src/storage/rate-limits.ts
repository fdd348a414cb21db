// The rate-limit counters in PostgreSQL (security/rate-limits.ts decides what they mean): one row
// per key; the upserts that count take the row's lock, so concurrent hits are counted exactly.
import { sql } from 'kysely'
import type { Executor } from './database.ts'

/** Counts one hit of `key`, starting a new window when the old one began at or before `windowStart`. */
export async function countHit(db: Executor, key: string, now: Date, windowStart: Date): Promise<{ count: number; windowStart: Date }> {
  const { rows } = await sql<{ count: number; window_start: Date }>`
    INSERT INTO rate_limits (key, count, window_start) VALUES (${key}, 1, ${now})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limits.window_start <= ${windowStart} THEN 1 ELSE rate_limits.count + 1 END,
      window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
    RETURNING count, window_start`.execute(db)
  const row = rows[0]!
  return { count: row.count, windowStart: row.window_start }
}

/** The counter of `key`, if any: undefined when nothing is counted, blockedUntil null when not blocked. */
export async function findCounterBlock(db: Executor, key: string): Promise<{ blockedUntil: Date | null } | undefined> {
  const row = await db.selectFrom('rate_limits').select('blocked_until').where('key', '=', key).executeTakeFirst()
  return row && { blockedUntil: row.blocked_until }
}

/**
 * Counts one failure of `key`; the count starts again when its window began at or before
 * `windowStart` and no block is running.
 */
export async function countFailure(db: Executor, key: string, now: Date, windowStart: Date): Promise<number> {
  const { rows } = await sql<{ count: number }>`
    INSERT INTO rate_limits (key, count, window_start) VALUES (${key}, 1, ${now})
    ON CONFLICT (key) DO UPDATE SET
      count = CASE WHEN rate_limits.window_start <= ${windowStart} AND (rate_limits.blocked_until IS NULL OR rate_limits.blocked_until <= ${now}) THEN 1 ELSE rate_limits.count + 1 END,
      window_start = CASE WHEN rate_limits.window_start <= ${windowStart} THEN ${now} ELSE rate_limits.window_start END
    RETURNING count`.execute(db)
  return rows[0]!.count
}

export async function blockCounter(db: Executor, key: string, until: Date): Promise<void> {
  await db.updateTable('rate_limits').set({ blocked_until: until }).where('key', '=', key).execute()
}

export async function deleteCounter(db: Executor, key: string): Promise<void> {
  await db.deleteFrom('rate_limits').where('key', '=', key).execute()
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

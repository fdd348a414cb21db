// Periodic cleanup: expired rows are deleted in small batches so no statement holds locks long.
// Every process runs it; the deletes are idempotent, so several processes doing it is harmless.
import type { Kysely } from 'kysely'
import type { DB } from './storage/schema.ts'
import type { Logger } from 'pino'
import type { Executor } from './storage/database.ts'
import { deleteExpiredSessions } from './storage/sessions.ts'
import { deleteExpiredInteractions } from './storage/interactions.ts'
import { deleteExpiredInvitations } from './storage/invitations.ts'
import { deleteOldCounters } from './storage/rate-limits.ts'
import { deleteExpiredTokenRows, tryLockCleanup } from './storage/cleanup.ts'
import { deleteExpiredSecretReveals } from './storage/console.ts'

/** Expired interactions stay a day, so a late form gets the "expired" page rather than "not found". */
const INTERACTION_RETENTION_MS = 24 * 3600 * 1000
/** Anonymous ones (anybody can start them) an hour: what an anonymous authorize stores is short-lived. */
const ANONYMOUS_INTERACTION_RETENTION_MS = 3600 * 1000

type BatchDelete = (db: Executor, now: Date, batchSize: number, retention: Retention) => Promise<number>

export interface Retention {
  /**
   * Used codes are kept as long as a refresh token they issued can live (REFRESH_TOKEN_TTL_SECONDS
   * after the code expired), so a replay of the code still revokes the whole family.
   */
  usedCodeSeconds: number
}

const CLEANUPS: Record<string, BatchDelete> = {
  sessions: (db, now, n) => deleteExpiredSessions(db, now, n),
  interactions: (db, now, n) =>
    deleteExpiredInteractions(
      db,
      new Date(now.getTime() - INTERACTION_RETENTION_MS),
      n,
      new Date(now.getTime() - ANONYMOUS_INTERACTION_RETENTION_MS),
    ),
  authorization_codes: (db, now, n, retention) =>
    deleteExpiredTokenRows(db, 'authorization_codes', 'code_hash', new Date(now.getTime() - retention.usedCodeSeconds * 1000), n),
  access_tokens: (db, now, n) => deleteExpiredTokenRows(db, 'access_tokens', 'token_hash', now, n),
  refresh_tokens: (db, now, n) => deleteExpiredTokenRows(db, 'refresh_tokens', 'token_hash', now, n),
  channel_access_tokens: (db, now, n) => deleteExpiredTokenRows(db, 'channel_access_tokens', 'token_hash', now, n),
  rate_limits: (db, now, n) => deleteOldCounters(db, now, n),
  invitations: (db, now, n) => deleteExpiredInvitations(db, now, n),
  channel_secret_reveals: (db, now, n) => deleteExpiredSecretReveals(db, now, n),
}

/**
 * Deletes every expired row, batch by batch, each batch a short transaction holding an advisory
 * lock, so with many processes one cleans at a time. Returns how many rows per table, or null when
 * another process holds the lock.
 */
export async function deleteExpiredRows(
  db: Kysely<DB>,
  now: Date,
  retention: Retention,
  batchSize = 1000,
): Promise<Record<string, number> | null> {
  const deleted: Record<string, number> = {}
  for (const [table, cleanup] of Object.entries(CLEANUPS)) {
    deleted[table] = 0
    for (;;) {
      const count = await db.transaction().execute(async (trx) => {
        return (await tryLockCleanup(trx)) ? cleanup(trx, now, batchSize, retention) : null
      })
      if (count === null) return null
      deleted[table] += count
      if (count < batchSize) break
    }
  }
  return deleted
}

export function startCleanup(
  db: Kysely<DB>,
  log: Pick<Logger, 'info' | 'warn'>,
  retention: Retention,
  intervalMs = 10 * 60 * 1000,
): () => void {
  const run = () =>
    deleteExpiredRows(db, new Date(), retention).then(
      (deleted) => deleted && Object.values(deleted).some((n) => n > 0) && log.info({ deleted }, 'expired rows deleted'),
      (error) => log.warn({ err: error }, 'cleanup of expired rows failed'),
    )
  const timer = setInterval(run, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

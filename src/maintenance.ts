// Periodic cleanup: expired rows are deleted in small batches so no statement holds locks long.
// Every process runs it; the deletes are idempotent, so several processes doing it is harmless.
import type { Logger } from 'pino'
import type { Executor } from './storage/database.ts'
import { deleteExpiredSessions } from './storage/sessions.ts'

export async function deleteExpiredRows(db: Executor, now: Date, batchSize = 1000): Promise<number> {
  let total = 0
  for (;;) {
    const deleted = await deleteExpiredSessions(db, now, batchSize)
    total += deleted
    if (deleted < batchSize) return total
  }
}

export function startCleanup(db: Executor, log: Pick<Logger, 'info' | 'warn'>, intervalMs = 10 * 60 * 1000): () => void {
  const run = () =>
    deleteExpiredRows(db, new Date()).then(
      (deleted) => deleted > 0 && log.info({ deleted }, 'expired sessions deleted'),
      (error) => log.warn({ err: error }, 'cleanup of expired rows failed'),
    )
  const timer = setInterval(run, intervalMs)
  timer.unref()
  return () => clearInterval(timer)
}

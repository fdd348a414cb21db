// The SQL of the periodic cleanup (maintenance.ts): expired token rows in batches, under a lock
// one process holds at a time.
import { sql } from 'kysely'
import type { Executor } from './database.ts'

const CLEANUP_LOCK = 7_052_818_115

/** Deletes up to `batchSize` rows of a token table that expired at or before `before`; returns how many. */
export async function deleteExpiredTokenRows(
  db: Executor,
  table: 'authorization_codes' | 'access_tokens' | 'refresh_tokens' | 'channel_access_tokens',
  key: string,
  before: Date,
  batchSize: number,
): Promise<number> {
  const result =
    await sql`DELETE FROM ${sql.table(table)} WHERE ${sql.ref(key)} IN (SELECT ${sql.ref(key)} FROM ${sql.table(table)} WHERE expires_at <= ${before} LIMIT ${batchSize})`.execute(
      db,
    )
  return Number(result.numAffectedRows ?? 0)
}

/** Takes the cleanup's lock for the transaction; false when another process holds it. */
export async function tryLockCleanup(trx: Executor): Promise<boolean> {
  const { rows } = await sql<{ locked: boolean }>`SELECT pg_try_advisory_xact_lock(${CLEANUP_LOCK}) AS locked`.execute(trx)
  return rows[0]?.locked === true
}

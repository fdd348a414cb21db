// Readiness (GET /readyz, routes/health.ts): plusid can serve when its database answers.
import type { Executor } from './storage/database.ts'
import { pingDatabase } from './storage/database.ts'

/** Resolves when the database answers one query; throws what the driver threw otherwise. */
export async function checkReadiness(db: Executor): Promise<void> {
  await pingDatabase(db)
}

// Accounts as administrators see them, and disabling or enabling one.
import type { Kysely } from 'kysely'
import { z } from 'zod'
import type { DB } from '../storage/schema.ts'
import { setAccountDisabled, type AccountActor } from '../auth/accounts.ts'
import type { Executor } from '../storage/database.ts'
import { searchUsers } from '../storage/console.ts'
import { findUserById, type User } from '../storage/users.ts'

export type { User }
import { decodeCursor, nextCursor, UuidAfterCursor } from './cursors.ts'

/** Users newest first, or the one with exactly the email `q` (then no further page). */
export async function searchUsersPage(db: Executor, q: string, cursor: unknown, limit: number) {
  const users = await searchUsers(db, q, { after: decodeCursor(cursor, UuidAfterCursor), limit })
  return { users, next: q ? null : nextCursor(users, limit, (last) => ({ createdAt: last.createdAt, id: last.id })) }
}

/**
 * Disabling ends the account's sessions and tokens at once (auth/accounts.ts); enabling lets it log
 * in again. An administrator cannot disable themselves (nobody would be left to undo it).
 */
export async function setUserDisabled(
  db: Kysely<DB>,
  actor: AccountActor & { userId: string },
  userId: string,
  disabled: boolean,
): Promise<'done' | 'not_found' | 'self'> {
  if (!z.string().uuid().safeParse(userId).success || !(await findUserById(db, userId))) return 'not_found'
  if (disabled && userId === actor.userId) return 'self'
  await setAccountDisabled(db, actor, userId, disabled)
  return 'done'
}

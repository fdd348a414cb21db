// Browser sessions, stored by id with a hash of the secret half of the cookie.
import { sql } from 'kysely'
import { userFromRow, type User } from './users.ts'
import type { Executor } from './database.ts'

export interface SessionRecord {
  id: string
  secretHash: Uint8Array
  userId: string
  authTime: Date
  createdAt: Date
  lastSeenAt: Date
  expiresAt: Date
}

export interface NewSession {
  id: string
  secretHash: Uint8Array
  userId: string
  authTime: Date
  expiresAt: Date
  ip: string | null
  userAgent: string | null
}

/**
 * Inserts the session unless its user is disabled; false when it was not inserted. The user's row
 * is read FOR SHARE, so a disable committing at the same moment either waits for this insert (and
 * then deletes the session with the others) or is seen by it: no session outlives a disable.
 */
export async function insertSession(db: Executor, session: NewSession): Promise<boolean> {
  const result = await sql`
    INSERT INTO sessions (id, secret_hash, user_id, auth_time, expires_at, ip, user_agent)
    SELECT ${session.id}::text, ${session.secretHash}::bytea, users.id, ${session.authTime}::timestamptz, ${session.expiresAt}::timestamptz, ${session.ip}::text, ${session.userAgent}::text
    FROM users WHERE users.id = ${session.userId} AND users.disabled_at IS NULL
    FOR SHARE`.execute(db)
  return Number(result.numAffectedRows ?? 0n) === 1
}

export async function findSessionWithUser(db: Executor, id: string): Promise<{ session: SessionRecord; user: User } | undefined> {
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .select([
      'sessions.id as session_id',
      'sessions.secret_hash',
      'sessions.auth_time',
      'sessions.created_at as session_created_at',
      'sessions.last_seen_at',
      'sessions.expires_at',
      'users.id',
      'users.email',
      'users.display_name',
      'users.picture_url',
      'users.is_admin',
      'users.created_at',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst()
  if (!row) return undefined
  return {
    session: {
      id: row.session_id,
      secretHash: row.secret_hash,
      userId: row.id,
      authTime: row.auth_time,
      createdAt: row.session_created_at,
      lastSeenAt: row.last_seen_at,
      expiresAt: row.expires_at,
    },
    user: userFromRow(row),
  }
}

export async function extendSession(db: Executor, id: string, expiresAt: Date, lastSeenAt: Date): Promise<void> {
  await db.updateTable('sessions').set({ expires_at: expiresAt, last_seen_at: lastSeenAt }).where('id', '=', id).execute()
}

export async function deleteSession(db: Executor, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

export async function deleteExpiredSessions(db: Executor, now: Date, batchSize = 1000): Promise<number> {
  const result = await db
    .deleteFrom('sessions')
    .where('id', 'in', (select) => select.selectFrom('sessions').select('id').where('expires_at', '<=', now).limit(batchSize))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

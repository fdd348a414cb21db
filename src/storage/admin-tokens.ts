// Administrators' API tokens (`plusid admin token`), stored by SHA-256 like every other token.
// A token expires, can be revoked, and works only while its owner is an administrator whose
// account is enabled; a password change or a disable revokes it (user-data.ts endUserAccess),
// and so does losing the role (users.ts setAdministrator).
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import { randomToken, sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import type { Executor } from './database.ts'
import { openEmail, userFromRow, type User } from './users.ts'

export const ADMIN_TOKEN_TTL_SECONDS = 90 * 24 * 3600

export async function createAdminToken(
  db: Executor,
  userId: string,
  expiresAt = new Date(Date.now() + ADMIN_TOKEN_TTL_SECONDS * 1000),
): Promise<{ id: string; token: string; expiresAt: Date }> {
  const token = randomToken()
  const id = randomUUID()
  await db
    .insertInto('admin_api_tokens')
    .values({ id, user_id: userId, token_hash: sha256(token), expires_at: expiresAt })
    .execute()
  return { id, token, expiresAt }
}

export interface AdminTokenInfo {
  id: string
  userId: string
  ownerEmail: string
  createdAt: Date
  expiresAt: Date
  lastUsedAt: Date | null
}

/** The live (unrevoked, unexpired) tokens of one administrator, or of all when userId is null; newest first. */
export async function listAdminTokens(db: Executor, userId: string | null, now: Date): Promise<AdminTokenInfo[]> {
  let query = db
    .selectFrom('admin_api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['t.id', 't.user_id', 'u.email', 't.created_at', 't.expires_at', 't.last_used_at'])
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', now)
    .orderBy('t.created_at', 'desc')
    .orderBy('t.id')
    .limit(1000)
  if (userId !== null) query = query.where('t.user_id', '=', userId)
  const rows = await query.execute()
  return rows.map((row) => ({
    id: row.id,
    userId: row.user_id,
    ownerEmail: openEmail(row.user_id, row.email),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
  }))
}

/** Revokes a token by its id; the owner's id when it was live, else undefined (unknown or revoked already). */
export async function revokeAdminToken(db: Executor, id: string, now: Date): Promise<string | undefined> {
  const row = await db
    .updateTable('admin_api_tokens')
    .set({ revoked_at: now })
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning('user_id')
    .executeTakeFirst()
  return row?.user_id
}

/**
 * The administrator a live token belongs to — unrevoked, unexpired, its owner an enabled
 * administrator — and the use recorded: last_used_at and an audit entry naming the token, the
 * method and the route (never the token itself), in the same statement.
 */
export async function useAdminToken(
  db: Executor,
  token: string,
  use: { method: string; route: string; ip: string | null },
  now: Date,
): Promise<User | undefined> {
  if (!TOKEN_FORMAT.test(token)) return undefined
  const { rows } = await sql<{
    id: string
    email: string
    display_name: string
    picture_url: string | null
    is_admin: boolean
    created_at: Date
  }>`
    WITH used AS (
      UPDATE admin_api_tokens t SET last_used_at = ${now}
      FROM users u
      WHERE t.token_hash = ${sha256(token)} AND t.revoked_at IS NULL AND t.expires_at > ${now}
        AND u.id = t.user_id AND u.is_admin AND u.disabled_at IS NULL
      RETURNING t.id AS token_id, u.id, u.email, u.display_name, u.picture_url, u.is_admin, u.created_at),
    audited AS (
      INSERT INTO audit_log (actor_id, actor_kind, action, object_type, object_id, ip, details)
      SELECT id, 'api', 'admin_token.used', 'admin_token', token_id::text, ${use.ip}, jsonb_build_object('method', ${use.method}::text, 'route', ${use.route}::text) FROM used
      RETURNING 1)
    SELECT id, email, display_name, picture_url, is_admin, created_at FROM used`.execute(db)
  const row = rows[0]
  return row && userFromRow(row)
}

// Administrators' API tokens (`plusid admin token`), stored by SHA-256 like every other token.
import { randomUUID } from 'node:crypto'
import { randomToken, sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import type { Executor } from './database.ts'
import { userFromRow, type User } from './users.ts'

export async function createAdminToken(db: Executor, userId: string): Promise<{ id: string; token: string }> {
  const token = randomToken()
  const id = randomUUID()
  await db.insertInto('admin_api_tokens').values({ id, user_id: userId, token_hash: sha256(token) }).execute()
  return { id, token }
}

/** The administrator a live token belongs to (a user no longer administrator gets nothing). */
export async function findAdminByToken(db: Executor, token: string): Promise<User | undefined> {
  if (!TOKEN_FORMAT.test(token)) return undefined
  const row = await db
    .selectFrom('admin_api_tokens as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['u.id', 'u.email', 'u.display_name', 'u.picture_url', 'u.is_admin', 'u.created_at'])
    .where('t.token_hash', '=', sha256(token))
    .where('t.revoked_at', 'is', null)
    .where('u.is_admin', '=', true)
    .executeTakeFirst()
  return row && userFromRow(row)
}


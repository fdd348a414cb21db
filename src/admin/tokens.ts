// Administrators' API tokens: issued from the command line, listed and revoked there or on the
// administration pages, and checked (each use audited) by the JSON API.
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import { createAdminToken, listAdminTokens, revokeAdminToken, useAdminToken, type AdminTokenInfo } from '../storage/admin-tokens.ts'
import { appendAudit, type ActorKind } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import type { User } from '../storage/users.ts'

export type { AdminTokenInfo }

export interface TokenActor {
  /** null from the command line: the token's owner is named as the actor. */
  userId: string | null
  kind: ActorKind
  ip: string | null
}

/** A new token for the administrator; the token itself is in the answer only. */
export async function issueToken(db: Kysely<DB>, actor: TokenActor, adminId: string, expiresAt: Date) {
  return db.transaction().execute(async (trx) => {
    const token = await createAdminToken(trx, adminId, expiresAt)
    await appendAudit(trx, {
      actorId: actor.userId ?? adminId,
      actorKind: actor.kind,
      ip: actor.ip,
      action: 'admin_token.created',
      objectType: 'admin_token',
      objectId: token.id,
      details: { expires_at: token.expiresAt.toISOString() },
    })
    return token
  })
}

/** The live tokens of one administrator, or of all when `userId` is null. */
export function liveTokens(db: Executor, userId: string | null): Promise<AdminTokenInfo[]> {
  return listAdminTokens(db, userId, new Date())
}

/** Revokes a live token at once; false when there is none with that id (unknown or revoked already). */
export async function revokeToken(db: Kysely<DB>, actor: TokenActor, tokenId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const owner = await revokeAdminToken(trx, tokenId, new Date())
    if (owner)
      await appendAudit(trx, {
        actorId: actor.userId ?? owner,
        actorKind: actor.kind,
        ip: actor.ip,
        action: 'admin_token.revoked',
        objectType: 'admin_token',
        objectId: tokenId,
        details: { owner },
      })
    return owner !== undefined
  })
}

/** The enabled administrator a live token belongs to, the use recorded (storage's useAdminToken). */
export function administratorOfToken(
  db: Executor,
  token: string,
  use: { method: string; route: string; ip: string | null },
): Promise<User | undefined> {
  return useAdminToken(db, token, use, new Date())
}

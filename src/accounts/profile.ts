// The user's own Profile+ data and display name: read for the account pages, saved by the editor.
import type { Kysely } from 'kysely'
import type { ProfilePlus } from '../profile/profile.ts'
import { appendAudit } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import { findProfile, saveProfile } from '../storage/profiles.ts'
import type { DB } from '../storage/schema.ts'
import { updateDisplayName, type User } from '../storage/users.ts'
import type { RequestOrigin } from './context.ts'

export type { User }

export function ownProfile(db: Executor, userId: string): Promise<ProfilePlus> {
  return findProfile(db, userId)
}

/** Saves the editor's values and, when it changed, the display name; audited, all or nothing. */
export async function updateProfile(
  db: Kysely<DB>,
  origin: RequestOrigin,
  user: User,
  profile: Partial<ProfilePlus>,
  name: string,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await saveProfile(trx, user.id, profile)
    if (name !== user.displayName) await updateDisplayName(trx, user.id, name)
    await appendAudit(trx, {
      actorId: user.id,
      actorKind: 'user',
      action: 'profile.updated',
      objectType: 'user',
      objectId: user.id,
      ip: origin.ip,
    })
  })
}

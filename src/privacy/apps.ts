// The apps a user authorized, and unlinking one: its grant, codes and tokens end at once.
import { appendAudit } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import { type AuthorizedApp, listAuthorizedApps, unlinkChannel } from '../storage/user-data.ts'
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import type { Self } from './actor.ts'

export type { AuthorizedApp }

export function authorizedApps(db: Executor, userId: string): Promise<AuthorizedApp[]> {
  return listAuthorizedApps(db, userId)
}

/** False when the user had no grant to that channel (nothing audited). */
export async function unlinkApp(db: Kysely<DB>, self: Self, channelId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const done = await unlinkChannel(trx, self.userId, channelId)
    if (done)
      await appendAudit(trx, {
        actorId: self.userId,
        actorKind: 'user',
        ip: self.ip,
        action: 'grant.revoked',
        objectType: 'channel',
        objectId: channelId,
      })
    return done
  })
}

// Creating a provider: its creator becomes its first owner.
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import { appendAudit } from '../storage/audit.ts'
import { createProvider as insertProvider } from '../storage/console.ts'
import type { ConsoleActor } from './channels.ts'

/** The new provider's id, or undefined when the name is taken. */
export async function createProvider(db: Kysely<DB>, actor: ConsoleActor, name: string): Promise<string | undefined> {
  return db.transaction().execute(async (trx) => {
    const id = await insertProvider(trx, name, actor.userId)
    if (id)
      await appendAudit(trx, {
        actorId: actor.userId,
        actorKind: 'user',
        ip: actor.ip,
        action: 'provider.created',
        objectType: 'provider',
        objectId: id,
      })
    return id
  })
}

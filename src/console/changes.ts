// After an administrator approved an item of a channel, its owners can still change the name,
// icon and callback URLs users see and are sent to. Such changes do not suspend the approval (it
// stays in force), but each is recorded with its old and new value, audited, and shown to
// administrators in the review queue until one of them has looked at it.
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import type { Executor } from '../storage/database.ts'
import { appendAudit } from '../storage/audit.ts'
import { markChangeReviewed, recordChangeAfterApproval, type WatchedField } from '../storage/channel-changes.ts'
import type { Actor } from './review.ts'

export interface WatchedSettings {
  name: string
  iconUrl: string | null
  callbackUrls: readonly string[]
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value, i) => value === b[i])

/** Records (in the caller's transaction) each watched field that changed, if the channel has approvals. */
export async function recordWatchedChanges(
  db: Executor,
  actor: { userId: string; ip: string | null },
  channelId: string,
  before: WatchedSettings,
  after: WatchedSettings,
): Promise<void> {
  const changed: [WatchedField, unknown, unknown][] = []
  if (before.name !== after.name) changed.push(['name', before.name, after.name])
  if (before.iconUrl !== after.iconUrl) changed.push(['icon_url', before.iconUrl, after.iconUrl])
  if (!sameList(before.callbackUrls, after.callbackUrls)) changed.push(['callback_urls', [...before.callbackUrls], [...after.callbackUrls]])
  for (const [field, oldValue, newValue] of changed) {
    if (await recordChangeAfterApproval(db, { channelId, field, oldValue, newValue, actorId: actor.userId })) {
      await appendAudit(db, {
        actorId: actor.userId,
        actorKind: 'user',
        ip: actor.ip,
        action: 'channel.changed_after_approval',
        objectType: 'channel',
        objectId: channelId,
        details: { field, old: oldValue, new: newValue },
      })
    }
  }
}

/** An administrator has looked at a change; false when it is not pending (looked at already, or unknown). */
export async function reviewChange(
  db: Kysely<DB>,
  actor: Actor & { userId: string },
  changeId: string,
  now = new Date(),
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    const change = await markChangeReviewed(trx, changeId, actor.userId, now)
    if (!change) return false
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: actor.kind,
      ip: actor.ip,
      action: 'channel.change_reviewed',
      objectType: 'channel',
      objectId: change.channelId,
      details: { change: changeId, field: change.field },
    })
    return true
  })
}

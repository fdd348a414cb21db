// Channels from the console: create one in a provider, change its settings (recording what changed
// after an approval), publish it. Each opens its own transaction and writes its audit entry.
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import { createChannel } from '../oauth/channels.ts'
import { appendAudit } from '../storage/audit.ts'
import type { Channel } from '../storage/channels.ts'
import { publishChannel as markPublished, updateChannelSettings, type ChannelSettings } from '../storage/console.ts'
import type { Membership } from './access.ts'
import { recordWatchedChanges } from './changes.ts'
import { keepForReveal } from './secrets.ts'

export type { ChannelSettings }

export interface ConsoleActor {
  userId: string
  ip: string | null
}

export interface NewConsoleChannel extends ChannelSettings {
  kind: Channel['kind']
}

/**
 * Creates a channel in the member's provider. A web channel's secret is kept for the one page view
 * that shows it when the creator is an owner (`revealId`); a developer's channel waits for an owner
 * to reissue it (`hasSecret` without `revealId`).
 */
export async function createConsoleChannel(
  db: Kysely<DB>,
  masterKey: Buffer,
  actor: ConsoleActor,
  membership: Membership,
  settings: NewConsoleChannel,
): Promise<{ channelId: string; hasSecret: boolean; revealId: string | null }> {
  return db.transaction().execute(async (trx) => {
    const result = await createChannel(trx, masterKey, {
      name: settings.name,
      callbackUrls: settings.callbackUrls,
      logoutUrls: settings.logoutUrls,
      kind: settings.kind,
      idTokenAlg: settings.idTokenAlg,
      errorStyle: settings.errorStyle,
      providerName: membership.providerName,
      publish: false,
    })
    await updateChannelSettings(trx, result.channelId, settings)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: 'channel.created',
      objectType: 'channel',
      objectId: result.channelId,
    })
    // Secrets are shown to owners only.
    const revealId =
      result.channelSecret && membership.role === 'owner'
        ? await keepForReveal(trx, masterKey, result.channelId, actor.userId, result.channelSecret)
        : null
    return { channelId: result.channelId, hasSecret: result.channelSecret !== null, revealId }
  })
}

/**
 * Saves a channel's settings. Leaving HS256 drops the sealed copy of the secret (plusid no longer
 * needs it); switching to HS256 goes through a reissue instead (console/secrets.ts). Name, icon and
 * callback URLs changed after an approval go to the administrators' queue.
 */
export async function updateSettings(db: Kysely<DB>, actor: ConsoleActor, channel: Channel, settings: ChannelSettings): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await updateChannelSettings(trx, channel.id, settings, settings.idTokenAlg === 'HS256' ? undefined : null)
    await recordWatchedChanges(trx, actor, channel.id, channel, settings)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: 'channel.updated',
      objectType: 'channel',
      objectId: channel.id,
    })
  })
}

export async function publishChannel(db: Kysely<DB>, actor: ConsoleActor, channelId: string): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await markPublished(trx, channelId)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: 'channel.published',
      objectType: 'channel',
      objectId: channelId,
    })
  })
}

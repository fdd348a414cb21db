// Reissuing a channel's secret and showing it once. The new secret is kept sealed for the one page
// view that shows it to the owner who asked; reading it deletes it, so a reload shows nothing and
// issues nothing.
import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import { open, seal } from '../crypto/secret-box.ts'
import { sha256 } from '../crypto/tokens.ts'
import { newChannelSecret, sealChannelSecret } from '../oauth/channel-secret.ts'
import { appendAudit } from '../storage/audit.ts'
import type { Channel } from '../storage/channels.ts'
import type { Executor } from '../storage/database.ts'
import { insertSecretReveal, replaceChannelSecret, takeSecretReveal } from '../storage/console.ts'
import type { ConsoleActor } from './channels.ts'

/** How long a reissued secret waits for the page that shows it. */
const SECRET_REVEAL_MS = 10 * 60 * 1000
const revealContext = (revealId: string) => `channel-secret-reveal:${revealId}`

/** Keeps a new secret (in the caller's transaction) for the one page view that shows it; returns the reveal's id. */
export async function keepForReveal(trx: Executor, masterKey: Buffer, channelId: string, userId: string, secret: string): Promise<string> {
  const id = randomUUID()
  await insertSecretReveal(trx, {
    id,
    channelId,
    userId,
    sealedSecret: seal(masterKey, secret, revealContext(id)),
    expiresAt: new Date(Date.now() + SECRET_REVEAL_MS),
  })
  return id
}

/**
 * A new secret for the channel; the old one stops working at once. `switchToHs256` (or a channel on
 * HS256 already) keeps it sealed too, to sign ID tokens with. Returns the reveal's id.
 */
export async function reissueSecret(
  db: Kysely<DB>,
  masterKey: Buffer,
  actor: ConsoleActor,
  channel: Pick<Channel, 'id' | 'idTokenAlg'>,
  switchToHs256: boolean,
): Promise<string> {
  const hs256 = channel.idTokenAlg === 'HS256' || switchToHs256
  const secret = newChannelSecret()
  return db.transaction().execute(async (trx) => {
    await replaceChannelSecret(
      trx,
      channel.id,
      sha256(secret),
      hs256 ? sealChannelSecret(masterKey, channel.id, secret) : null,
      hs256 ? 'HS256' : undefined,
    )
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: 'channel.secret_reissued',
      objectType: 'channel',
      objectId: channel.id,
      details: hs256 && channel.idTokenAlg !== 'HS256' ? { idTokenAlg: 'HS256' } : {},
    })
    return keepForReveal(trx, masterKey, channel.id, actor.userId, secret)
  })
}

/** The secret kept for this reveal, once: null when it was shown already, expired, or is not this user's. */
export async function revealSecret(
  db: Executor,
  masterKey: Buffer,
  channelId: string,
  userId: string,
  revealId: string,
): Promise<string | null> {
  const sealed = await takeSecretReveal(db, revealId, channelId, userId, new Date())
  return sealed ? open(masterKey, sealed, revealContext(revealId)) : null
}

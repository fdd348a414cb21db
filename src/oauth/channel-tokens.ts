// Channel access tokens (client_credentials at /oauth2/v3/token) and what a channel does with
// one: unlink a user (/user/v1/deauthorize). Also the channel lookup of /oauth2/v2.1/verify.
import { randomToken, sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import { appendAudit } from '../storage/audit.ts'
import { findChannel, type Channel } from '../storage/channels.ts'
import type { Kysely } from 'kysely'
import type { Executor } from '../storage/database.ts'
import type { DB } from '../storage/schema.ts'
import { findAccessToken, findChannelAccessToken, insertChannelAccessToken } from '../storage/oauth-tokens.ts'
import { unlinkChannel } from '../storage/user-data.ts'

export const CHANNEL_TOKEN_TTL_SECONDS = 900

/** A new channel access token for an authenticated confidential channel. */
export async function issueChannelAccessToken(db: Executor, channelId: string, now: Date): Promise<string> {
  const token = randomToken()
  await insertChannelAccessToken(db, sha256(token), channelId, new Date(now.getTime() + CHANNEL_TOKEN_TTL_SECONDS * 1000))
  return token
}

/** The channel a live channel access token belongs to; undefined for an unknown or expired one. */
export async function channelOfAccessToken(db: Executor, channelToken: string, now: Date): Promise<string | undefined> {
  const found = TOKEN_FORMAT.test(channelToken) ? await findChannelAccessToken(db, sha256(channelToken)) : undefined
  return found && found.expiresAt.getTime() > now.getTime() ? found.channelId : undefined
}

/** The user of a live (unrevoked) user access token of the channel; undefined otherwise. */
export async function userOfChannelAccessToken(db: Executor, channelId: string, userAccessToken: string): Promise<string | undefined> {
  const token = TOKEN_FORMAT.test(userAccessToken) ? await findAccessToken(db, sha256(userAccessToken)) : undefined
  return token && token.channelId === channelId && !token.revokedAt ? token.userId : undefined
}

/** The channel unlinks the user: the grant and every token go, with the audit entry, in one transaction. */
export async function unlinkByChannel(db: Kysely<DB>, userId: string, channelId: string, ip: string | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await unlinkChannel(trx, userId, channelId)
    await appendAudit(trx, {
      actorId: userId,
      actorKind: 'channel',
      ip,
      action: 'grant.revoked',
      objectType: 'channel',
      objectId: channelId,
      details: { by: 'channel' },
    })
  })
}

/** A channel by id (the audience of an ID token being verified). */
export function channelById(db: Executor, channelId: string): Promise<Channel | undefined> {
  return findChannel(db, channelId)
}

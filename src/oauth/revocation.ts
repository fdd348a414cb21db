// Revocation (RFC 7009) and introspection (RFC 7662) of the tokens a channel holds. A token of
// another channel is treated as unknown: revoking it does nothing, introspecting it says inactive.
import type { Kysely } from 'kysely'
import { sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import type { Channel } from '../storage/channels.ts'
import type { DB } from '../storage/schema.ts'
import { findAccessToken, findRefreshToken, lockGrant, revokeAccessToken, revokeTokenFamily } from '../storage/oauth-tokens.ts'
import { releasableScopes, type ReleaseState } from './release.ts'
import { pairwiseSubject } from './subject.ts'

export type TokenTypeHint = 'access_token' | 'refresh_token' | undefined

/**
 * Revokes every token of a family (code reuse, refresh token reuse, RFC 7009 revoke of a refresh
 * token). The grant row is locked first, so an issuance in this family either committed before
 * (and its tokens are revoked here) or waits and then finds its source revoked.
 */
export async function revokeFamily(
  db: Kysely<DB>,
  target: { userId: string; channelId: string; family: string; codeHash?: Uint8Array },
  now: Date,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    await lockGrant(trx, target.userId, target.channelId)
    await revokeTokenFamily(trx, target.family, now, target.codeHash)
  })
}

/** Revokes an access token (that token) or a refresh token (its whole family). Unknown: nothing. */
export async function revokeToken(db: Kysely<DB>, channel: Channel, token: string, hint: TokenTypeHint, now: Date): Promise<void> {
  if (!TOKEN_FORMAT.test(token)) return
  const hash = sha256(token)
  const order = hint === 'refresh_token' ? (['refresh', 'access'] as const) : (['access', 'refresh'] as const)
  for (const kind of order) {
    if (kind === 'access') {
      const access = await findAccessToken(db, hash)
      if (access) {
        if (access.channelId === channel.id) await revokeAccessToken(db, hash, channel.id, now)
        return
      }
    } else {
      const refresh = await findRefreshToken(db, hash)
      if (refresh) {
        if (refresh.channelId === channel.id)
          await revokeFamily(db, { userId: refresh.userId, channelId: channel.id, family: refresh.family }, now)
        return
      }
    }
  }
}

interface IntrospectedToken {
  channelId: string
  userId: string
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
  consumedAt?: Date | null
  release: ReleaseState
}

/**
 * RFC 7662. A token is active only if it could be used now: this channel's, alive, and with a
 * release allowed by the same rule every release point applies (release.ts); its scope is what
 * it would release now.
 */
export async function introspectToken(
  db: Kysely<DB>,
  channel: Channel,
  token: string,
  hint: TokenTypeHint,
  now: Date,
): Promise<Record<string, unknown>> {
  const inactive = { active: false }
  if (!TOKEN_FORMAT.test(token)) return inactive
  const hash = sha256(token)
  const seconds = (date: Date) => Math.floor(date.getTime() / 1000)
  const describe = (found: IntrospectedToken, tokenType: 'Bearer' | 'refresh_token') => {
    if (found.channelId !== channel.id || found.revokedAt || found.consumedAt || found.expiresAt <= now) return inactive
    const scopes = releasableScopes(found.release)
    if (scopes === null) return inactive
    return {
      active: true,
      scope: scopes.join(' '),
      client_id: channel.id,
      sub: pairwiseSubject(channel.pairwiseSecret, found.userId),
      exp: seconds(found.expiresAt),
      iat: seconds(found.createdAt),
      token_type: tokenType,
    }
  }
  const access = hint === 'refresh_token' ? undefined : await findAccessToken(db, hash)
  if (access) return describe(access, 'Bearer')
  const refresh = await findRefreshToken(db, hash)
  if (refresh) return describe(refresh, 'refresh_token')
  if (hint === 'refresh_token') {
    const accessAfterAll = await findAccessToken(db, hash)
    if (accessAfterAll) return describe(accessAfterAll, 'Bearer')
  }
  return inactive
}

// Revocation (RFC 7009) and introspection (RFC 7662) of the tokens a channel holds. A token of
// another channel is treated as unknown: revoking it does nothing, introspecting it says inactive.
import { sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import type { Channel } from '../storage/channels.ts'
import type { Executor } from '../storage/database.ts'
import { findAccessToken, findRefreshToken, revokeAccessToken, revokeTokenFamily } from '../storage/oauth-tokens.ts'
import { pairwiseSubject } from './subject.ts'

export type TokenTypeHint = 'access_token' | 'refresh_token' | undefined

/** Revokes an access token (that token) or a refresh token (its whole family). Unknown: nothing. */
export async function revokeToken(db: Executor, channel: Channel, token: string, hint: TokenTypeHint, now: Date): Promise<void> {
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
        if (refresh.channelId === channel.id) await revokeTokenFamily(db, refresh.family, now)
        return
      }
    }
  }
}

export async function introspectToken(db: Executor, channel: Channel, token: string, hint: TokenTypeHint, now: Date): Promise<Record<string, unknown>> {
  const inactive = { active: false }
  if (!TOKEN_FORMAT.test(token)) return inactive
  const hash = sha256(token)
  const seconds = (date: Date) => Math.floor(date.getTime() / 1000)
  const sub = (userId: string) => pairwiseSubject(channel.pairwiseSecret, userId)
  const access = hint === 'refresh_token' ? undefined : await findAccessToken(db, hash)
  if (access) {
    if (access.channelId !== channel.id || access.revokedAt || access.expiresAt <= now) return inactive
    return { active: true, scope: access.scopes.join(' '), client_id: channel.id, sub: sub(access.userId), exp: seconds(access.expiresAt), iat: seconds(access.createdAt), token_type: 'Bearer' }
  }
  const refresh = await findRefreshToken(db, hash)
  if (refresh) {
    if (refresh.channelId !== channel.id || refresh.revokedAt || refresh.consumedAt || refresh.expiresAt <= now) return inactive
    return { active: true, scope: refresh.scopes.join(' '), client_id: channel.id, sub: sub(refresh.userId), exp: seconds(refresh.expiresAt), iat: seconds(refresh.createdAt), token_type: 'refresh_token' }
  }
  if (hint === 'refresh_token') {
    const accessAfterAll = await findAccessToken(db, hash)
    if (accessAfterAll && accessAfterAll.channelId === channel.id && !accessAfterAll.revokedAt && accessAfterAll.expiresAt > now) {
      return { active: true, scope: accessAfterAll.scopes.join(' '), client_id: channel.id, sub: sub(accessAfterAll.userId), exp: seconds(accessAfterAll.expiresAt), iat: seconds(accessAfterAll.createdAt), token_type: 'Bearer' }
    }
  }
  return inactive
}

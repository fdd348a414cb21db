// grant_type=refresh_token (RFC 6749 §6, LINE Login v2.1). A confidential channel gets
// the same refresh token back (LINE); a public one gets a new one each time, and reuse of a
// consumed one revokes the whole family (RFC 9700 §4.14.2). The 90 days count from the first
// issue and are never extended.
import { sha256 } from '../../crypto/tokens.ts'
import { verifyChannelCredentials, type ClientCredentials } from '../client-auth.ts'
import { consumeRefreshToken, findChannelWithRefreshToken, revokeTokenFamily } from '../../storage/oauth-tokens.ts'
import type { OAuthContext } from '../context.ts'
import { OAuthError } from '../errors.ts'
import { isDataItem } from '../scopes.ts'
import { issueTokens, type TokenResponse } from '../tokens.ts'

export interface RefreshRequest {
  refresh_token: string
  scope?: string | undefined
}

export async function refreshTokens(ctx: OAuthContext, credentials: ClientCredentials, ip: string | null, params: RefreshRequest, now: Date): Promise<TokenResponse> {
  const hash = sha256(params.refresh_token)
  // The channel and its refresh token in one round trip; another channel's token is not found,
  // as unknown as a made-up one.
  const found = await findChannelWithRefreshToken(ctx.db, credentials.clientId, hash)
  const channel = verifyChannelCredentials(found?.channel, credentials)
  if (channel.suspendedAt) throw new OAuthError('unauthorized_client', 'the channel is suspended')
  const token = found?.token
  if (!token) throw new OAuthError('invalid_grant', 'invalid refresh token')
  if (token.revokedAt !== null) throw new OAuthError('invalid_grant', 'invalid refresh token')
  if (token.expiresAt.getTime() <= now.getTime()) throw new OAuthError('invalid_grant', 'invalid refresh token')
  if (token.consumedAt !== null) {
    await revokeTokenFamily(ctx.db, token.family, now)
    throw new OAuthError('invalid_grant', 'refresh token already used: every token of this grant is revoked')
  }

  // A narrower scope may be asked for (RFC 6749 §6); never a wider one.
  let scopes = token.scopes
  if (params.scope !== undefined && params.scope.trim() !== '') {
    const asked = [...new Set(params.scope.split(' ').filter(Boolean))]
    const extra = asked.filter((scope) => !token.scopes.includes(scope))
    if (extra.length > 0) throw new OAuthError('invalid_scope', `scope exceeds the original grant: ${extra.join(' ')}`)
    scopes = asked
  }
  // A permission suspended since the login stops the data at the next refresh.
  scopes = scopes.filter((scope) => !isDataItem(scope) || channel.approvedItems.includes(scope))

  // No ID token on refresh (LINE), so the user's claims are not read.
  const input = {
    channel,
    userId: token.userId,
    scopes,
    authTime: token.authTime,
    amr: token.amr,
    nonce: null,
    family: token.family,
    withIdToken: false,
    now,
    ip,
  }
  // A confidential channel keeps its refresh token: one insert, no transaction needed.
  if (!channel.isPublic) return issueTokens(ctx, ctx.db, { ...input, refresh: { issue: false, existing: params.refresh_token } })
  // A public channel's token is consumed and replaced together, or not at all.
  return ctx.db.transaction().execute(async (trx) => {
    if (!(await consumeRefreshToken(trx, hash, now))) throw new OAuthError('invalid_grant', 'refresh token already used')
    return issueTokens(ctx, trx, { ...input, refresh: { issue: true, expiresAt: token.expiresAt } })
  })
}

// grant_type=refresh_token (RFC 6749 §6, LINE Login v2.1). A confidential channel gets
// the same refresh token back (LINE); a public one gets a new one each time, and reuse of a
// consumed one revokes the whole family (RFC 9700 §4.14.2). The 90 days count from the first
// issue and are never extended.
import { sha256 } from '../../crypto/tokens.ts'
import { verifyChannelCredentials, type ClientCredentials } from '../client-auth.ts'
import { findChannelWithRefreshToken } from '../../storage/oauth-tokens.ts'
import type { OAuthContext } from '../context.ts'
import { OAuthError } from '../errors.ts'
import { releasableScopes } from '../release.ts'
import { revokeFamily } from '../revocation.ts'
import { issueTokens, type TokenResponse } from '../tokens.ts'

export interface RefreshRequest {
  refresh_token: string
  scope?: string | undefined
}

const REUSED = 'refresh token already used: every token of this grant is revoked'

export async function refreshTokens(
  ctx: OAuthContext,
  credentials: ClientCredentials,
  ip: string | null,
  params: RefreshRequest,
  now: Date,
): Promise<TokenResponse> {
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
  const family = { userId: token.userId, channelId: channel.id, family: token.family }
  if (token.consumedAt !== null) {
    await revokeFamily(ctx.db, family, now)
    throw new OAuthError('invalid_grant', REUSED)
  }

  // A narrower scope may be asked for (RFC 6749 §6); never a wider one.
  let asked = token.scopes
  if (params.scope !== undefined && params.scope.trim() !== '') {
    asked = [...new Set(params.scope.split(' ').filter(Boolean))]
    const extra = asked.filter((scope) => !token.scopes.includes(scope))
    if (extra.length > 0) throw new OAuthError('invalid_scope', `scope exceeds the original grant: ${extra.join(' ')}`)
  }
  // What may be released now: a consent withdrawn or a permission suspended since the login is
  // not released; an unlinked grant or a disabled account releases nothing.
  const scopes = releasableScopes({ ...token.release, tokenScopes: asked })
  if (scopes === null) throw new OAuthError('invalid_grant', 'invalid refresh token')

  // No ID token on refresh (LINE), so the user's claims are not read. A confidential channel keeps
  // its refresh token; a public one's is consumed in the statement that issues its successor.
  const issued = await issueTokens(ctx, {
    channel,
    userId: token.userId,
    scopes,
    source: { kind: 'refresh', tokenHash: hash, rotate: channel.isPublic, now },
    authTime: token.authTime,
    amr: token.amr,
    nonce: null,
    family: token.family,
    refresh: channel.isPublic ? { issue: true, expiresAt: token.expiresAt } : { issue: false, existing: params.refresh_token },
    withIdToken: false,
    now,
    ip,
  })
  if (issued.issued) return issued.response
  if (issued.reason === 'reused' && channel.isPublic) {
    // Another request consumed this token first (or it was revoked meanwhile): a reuse. The
    // revocation runs after that request committed, so it sees and revokes what it issued.
    await revokeFamily(ctx.db, family, now)
    throw new OAuthError('invalid_grant', REUSED)
  }
  throw new OAuthError('invalid_grant', 'invalid refresh token')
}

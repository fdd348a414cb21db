// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, LINE Login v2.1).
import { sha256 } from '../../crypto/tokens.ts'
import { verifyChannelCredentials, type ClientCredentials } from '../client-auth.ts'
import { claimAuthorizationCode } from '../../storage/oauth-tokens.ts'
import type { OAuthContext } from '../context.ts'
import { OAuthError } from '../errors.ts'
import { verifierMatches } from '../pkce.ts'
import { releasableScopes } from '../release.ts'
import { revokeFamily } from '../revocation.ts'
import { issueTokens, type TokenResponse } from '../tokens.ts'

export interface CodeExchange {
  code: string
  redirect_uri: string
  code_verifier?: string | undefined
}

export async function exchangeAuthorizationCode(
  ctx: OAuthContext,
  credentials: ClientCredentials,
  ip: string | null,
  params: CodeExchange,
  now: Date,
): Promise<TokenResponse> {
  // 1. Burn the code first, in its own committed statement that also reads the presenting
  //    channel: every check below that fails still leaves it used, so a failed PKCE guess cannot
  //    be retried (node-oauth2-server's order). Only the code's own channel, authenticated, burns
  //    it: another channel's id (even a public one's) or a wrong secret leaves it untouched.
  const codeHash = sha256(params.code)
  const secretHash = credentials.secret === undefined || credentials.secret === '' ? null : sha256(credentials.secret)
  const claim = await claimAuthorizationCode(ctx.db, codeHash, credentials.clientId, secretHash, now)
  const channel = verifyChannelCredentials(claim.channel, credentials)
  if (channel.suspendedAt) throw new OAuthError('unauthorized_client', 'the channel is suspended')
  if (claim.status === 'unknown') throw new OAuthError('invalid_grant', 'invalid authorization code')
  if (claim.status === 'reused') {
    // Another channel's code is as unknown as a made-up one, and revokes nothing.
    if (claim.codeChannelId !== channel.id) throw new OAuthError('invalid_grant', 'invalid authorization code')
    // RFC 6749 §4.1.2: a code used twice SHOULD revoke the tokens it issued.
    await revokeFamily(ctx.db, { userId: claim.userId, channelId: channel.id, family: claim.tokenFamily, codeHash }, now)
    throw new OAuthError('invalid_grant', 'authorization code already used')
  }
  const { code, user } = claim
  // 2. Alive, bound to the callback URL, and to the PKCE challenge.
  if (code.expiresAt.getTime() <= now.getTime()) throw new OAuthError('invalid_grant', 'authorization code expired')
  if (code.redirectUri !== params.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match')
  if (code.codeChallenge !== null) {
    if (params.code_verifier === undefined) throw new OAuthError('invalid_grant', 'code_verifier is required')
    if (!verifierMatches(code.codeChallenge, params.code_verifier))
      throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge')
  } else if (params.code_verifier !== undefined) {
    throw new OAuthError('invalid_grant', 'code_verifier given but the authorization request had no code_challenge')
  }
  // 3. What may be released now: a consent withdrawn or an item suspended since the code was
  //    issued (a consent page left open, a code in flight) is not released.
  const scopes = releasableScopes({
    tokenScopes: code.scopes,
    grantedItems: claim.grantedItems,
    approvedItems: channel.approvedItems,
    channelSuspended: false,
    userDisabled: claim.userDisabled,
  })
  if (scopes === null) throw new OAuthError('invalid_grant', 'the authorization was withdrawn')
  // 4. Tokens, one family per code so that reuse of the code can revoke them all.
  const issued = await issueTokens(ctx, {
    channel,
    userId: code.userId,
    user,
    scopes,
    source: { kind: 'code', codeHash },
    authTime: code.authTime,
    amr: code.amr,
    nonce: code.nonce,
    family: code.tokenFamily,
    refresh: { issue: true, expiresAt: new Date(now.getTime() + ctx.config.refreshTokenTtlSeconds * 1000) },
    withIdToken: true,
    now,
    ip,
  })
  if (!issued.issued)
    throw new OAuthError(
      'invalid_grant',
      issued.reason === 'reused' ? 'authorization code already used' : 'the authorization was withdrawn',
    )
  return issued.response
}

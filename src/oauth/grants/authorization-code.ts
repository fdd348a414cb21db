// grant_type=authorization_code (RFC 6749 §4.1.3, RFC 7636 §4.6, LINE Login v2.1).
import { sha256 } from '../../crypto/tokens.ts'
import { verifyChannelCredentials, type ClientCredentials } from '../client-auth.ts'
import { claimAuthorizationCode, revokeTokenFamily } from '../../storage/oauth-tokens.ts'
import type { OAuthContext } from '../context.ts'
import { OAuthError } from '../errors.ts'
import { verifierMatches } from '../pkce.ts'
import { issueTokens, type TokenResponse } from '../tokens.ts'

export interface CodeExchange {
  code: string
  redirect_uri: string
  code_verifier?: string | undefined
}

export async function exchangeAuthorizationCode(ctx: OAuthContext, credentials: ClientCredentials, ip: string | null, params: CodeExchange, now: Date): Promise<TokenResponse> {
  // 1. Burn the code first, in its own committed statement that also reads the presenting
  //    channel: every check below that fails still leaves it used, so a failed PKCE guess or a
  //    wrong secret cannot be retried (node-oauth2-server's order).
  const claim = await claimAuthorizationCode(ctx.db, sha256(params.code), credentials.clientId, now)
  const channel = verifyChannelCredentials(claim.channel, credentials)
  if (channel.suspendedAt) throw new OAuthError('unauthorized_client', 'the channel is suspended')
  if (claim.status === 'unknown') throw new OAuthError('invalid_grant', 'invalid authorization code')
  if (claim.status === 'reused') {
    // RFC 6749 §4.1.2: a code used twice SHOULD revoke the tokens it issued.
    await revokeTokenFamily(ctx.db, claim.tokenFamily, now)
    throw new OAuthError('invalid_grant', 'authorization code already used')
  }
  const { code, user } = claim
  // 2. Bound to the channel, alive, to the callback URL, and to the PKCE challenge.
  if (code.channelId !== channel.id) throw new OAuthError('invalid_grant', 'invalid authorization code')
  if (code.expiresAt.getTime() <= now.getTime()) throw new OAuthError('invalid_grant', 'authorization code expired')
  if (code.redirectUri !== params.redirect_uri) throw new OAuthError('invalid_grant', 'redirect_uri does not match')
  if (code.codeChallenge !== null) {
    if (params.code_verifier === undefined) throw new OAuthError('invalid_grant', 'code_verifier is required')
    if (!verifierMatches(code.codeChallenge, params.code_verifier)) throw new OAuthError('invalid_grant', 'code_verifier does not match the code_challenge')
  } else if (params.code_verifier !== undefined) {
    throw new OAuthError('invalid_grant', 'code_verifier given but the authorization request had no code_challenge')
  }
  // 3. Tokens, one family per code so that reuse of the code can revoke them all.
  return issueTokens(ctx, ctx.db, {
    channel,
    userId: code.userId,
    user,
    scopes: code.scopes,
    authTime: code.authTime,
    amr: code.amr,
    nonce: code.nonce,
    family: code.tokenFamily,
    refresh: { issue: true, expiresAt: new Date(now.getTime() + ctx.config.refreshTokenTtlSeconds * 1000) },
    withIdToken: true,
    now,
    ip,
  })
}

// Issuing the token response (LINE Login v2.1; RFC 6749 §5.1), shared by both grants.
import { randomUUID } from 'node:crypto'
import { randomToken, sha256 } from '../crypto/tokens.ts'
import type { Channel } from '../storage/channels.ts'
import { insertTokens, type NewTokens } from '../storage/oauth-tokens.ts'
import type { ClaimSource } from './claims.ts'
import { scopeClaims } from './claims.ts'
import type { OAuthContext } from './context.ts'
import { signIdToken } from './id-token.ts'
import { pairwiseSubject } from './subject.ts'
import { releasedItems } from './release.ts'

/** Field order as LINE sends it. */
export interface TokenResponse {
  access_token: string
  token_type: 'Bearer'
  refresh_token?: string
  expires_in: number
  scope: string
  id_token?: string
}

export interface IssueInput {
  channel: Channel
  userId: string
  /** Needed for the ID token's claims only. */
  user?: ClaimSource
  /** What may be released now (releasableScopes()); the statement re-checks it under lock. */
  scopes: string[]
  /** What the tokens are issued from (re-checked alive, and consumed when a refresh token rotates). */
  source: NewTokens['source']
  authTime: Date
  amr: string[]
  nonce: string | null
  family?: string
  /** Issue a new refresh token (expiring then), keep the one the client has, or none. */
  refresh: { issue: true; expiresAt: Date } | { issue: false; existing: string }
  withIdToken: boolean
  now: Date
  /** Where the request came from, for the audit entry of a data release. */
  ip?: string | null
}

/**
 * The token response, or why nothing was issued: `reused` when the source was consumed or
 * revoked meanwhile (another request used it), `withdrawn` when the user, the grant or the channel
 * no longer allow the release (a revocation committed while this request ran).
 */
export type Issued = { issued: true; response: TokenResponse } | { issued: false; reason: 'reused' | 'withdrawn' }

export async function issueTokens(ctx: OAuthContext, input: IssueInput): Promise<Issued> {
  const accessToken = randomToken()
  // Personal data leaves with these tokens: which items (never their values) goes to the audit log.
  const released = releasedItems(input.scopes)
  const refreshToken = input.refresh.issue ? randomToken() : input.refresh.existing
  const stored = await insertTokens(ctx.db, {
    source: input.source,
    family: input.family ?? randomUUID(),
    channelId: input.channel.id,
    userId: input.userId,
    scopes: input.scopes,
    accessTokenHash: sha256(accessToken),
    accessExpiresAt: new Date(input.now.getTime() + ctx.config.accessTokenTtlSeconds * 1000),
    ...(input.refresh.issue
      ? { refresh: { hash: sha256(refreshToken), expiresAt: input.refresh.expiresAt, authTime: input.authTime, amr: input.amr } }
      : {}),
    ...(released.length > 0
      ? {
          audit: {
            actorId: input.userId,
            actorKind: 'channel' as const,
            action: 'data.released',
            objectType: 'channel',
            objectId: input.channel.id,
            ip: input.ip ?? null,
            details: { items: released },
          },
        }
      : {}),
  })
  if (!stored.issued) return { issued: false, reason: stored.live ? 'reused' : 'withdrawn' }
  const response: TokenResponse = {
    access_token: accessToken,
    token_type: 'Bearer',
    refresh_token: refreshToken,
    expires_in: ctx.config.accessTokenTtlSeconds,
    scope: input.scopes.join(' '),
  }
  if (input.withIdToken && input.user && input.scopes.includes('openid')) {
    response.id_token = await signIdToken(ctx.keys, ctx.masterKey, {
      issuer: ctx.issuer,
      channel: input.channel,
      sub: pairwiseSubject(input.channel.pairwiseSecret, input.userId),
      authTime: input.authTime,
      amr: input.amr,
      nonce: input.nonce,
      accessToken,
      claims: scopeClaims(input.scopes, input.user),
      now: input.now,
    })
  }
  return { issued: true, response }
}

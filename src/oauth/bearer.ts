// Access tokens presented by a channel on behalf of a user (RFC 6750).
import { sha256, TOKEN_FORMAT } from '../crypto/tokens.ts'
import type { Executor } from '../storage/database.ts'
import { findAccessToken, type AccessTokenRecord } from '../storage/oauth-tokens.ts'
import { OAuthError } from './errors.ts'
import { releasableScopes } from './release.ts'

export type AccessTokenState =
  | { valid: true; token: AccessTokenRecord }
  | { valid: false; reason: 'malformed' | 'unknown' | 'expired' | 'revoked' }

export async function lookupAccessToken(db: Executor, accessToken: string, now: Date): Promise<AccessTokenState> {
  if (!TOKEN_FORMAT.test(accessToken)) return { valid: false, reason: 'malformed' }
  const token = await findAccessToken(db, sha256(accessToken))
  if (!token) return { valid: false, reason: 'unknown' }
  if (token.revokedAt !== null) return { valid: false, reason: 'revoked' }
  if (token.expiresAt.getTime() <= now.getTime()) return { valid: false, reason: 'expired' }
  // A withdrawn consent or a suspension since the token was issued narrows it at once; an
  // unlinked grant, a suspended channel or a disabled account ends it (release.ts).
  const scopes = releasableScopes(token.release)
  if (scopes === null) return { valid: false, reason: 'revoked' }
  return { valid: true, token: { ...token, scopes } }
}

/**
 * The token from `Authorization: Bearer` or, for POST, the `access_token` form field (RFC 6750
 * §2.1–2.2); never both. Undefined when there is none.
 */
export function bearerToken(authorization: string | undefined, body: Record<string, unknown> | undefined): string | undefined {
  const fromHeader = authorization && /^bearer /i.test(authorization) ? authorization.slice(7).trim() : undefined
  const fromBody = body?.access_token
  if (fromBody !== undefined && typeof fromBody !== 'string')
    throw new OAuthError('invalid_request', 'access_token was given more than once')
  if (fromHeader !== undefined && fromBody !== undefined)
    throw new OAuthError('invalid_request', 'send the access token in one place, not in both the header and the body')
  return fromHeader ?? fromBody
}

// The claims a channel receives: only for scopes that were requested, permitted and granted,
// and only for items the user has registered (docs/profile-claims.md).
import type { ClaimSource } from '../domain/release.ts'
import { PROFILE_ITEMS, profileItem } from '../profile/items.ts'
import type { Scope } from './scopes.ts'

export type { ClaimSource } from '../domain/release.ts'

export function scopeClaims(scopes: readonly string[], user: ClaimSource): Record<string, unknown> {
  const claims: Record<string, unknown> = {}
  const has = (scope: Scope) => scopes.includes(scope)
  if (has('profile')) {
    claims.name = user.displayName
    if (user.pictureUrl) claims.picture = user.pictureUrl
  }
  if (has('email')) {
    claims.email = user.email
    claims.email_verified = false
  }
  // Profile+: each item's claims as the item registry names them (OIDC Core §5.1 where it has them).
  for (const item of PROFILE_ITEMS) {
    const definition = profileItem(item)
    const value = user.profile[definition.key]
    if (has(item) && value) Object.assign(claims, definition.toClaims(value))
  }
  if (claims.phone_number !== undefined) claims.phone_number_verified = false
  return claims
}

export const SUPPORTED_CLAIMS = [
  'sub',
  'iss',
  'aud',
  'exp',
  'iat',
  'auth_time',
  'nonce',
  'amr',
  'at_hash',
  'name',
  'picture',
  'email',
  'email_verified',
  // The registry's claim names, item by item (an address member is part of the one address claim).
  ...new Set(
    PROFILE_ITEMS.flatMap((item) => profileItem(item).fields.map((field) => field.name.split('.')[0]!)).flatMap((name) =>
      name === 'phone_number' ? [name, 'phone_number_verified'] : [name],
    ),
  ),
]

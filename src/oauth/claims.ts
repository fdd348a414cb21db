// The claims a channel receives: only for scopes that were requested, permitted and granted,
// and only for items the user has registered (docs/profile-claims.md).
import type { ClaimSource } from '../domain/release.ts'
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
  const { realName, address } = user.profile
  if (has('real_name') && realName) {
    claims.family_name = realName.familyName
    claims.given_name = realName.givenName
    if (realName.middleName) claims.middle_name = realName.middleName
    claims.family_name_pronunciation = realName.familyNamePronunciation
    claims.given_name_pronunciation = realName.givenNamePronunciation
  }
  if (has('gender') && user.profile.gender) claims.gender = user.profile.gender
  if (has('birthdate') && user.profile.birthdate) claims.birthdate = user.profile.birthdate
  if (has('phone') && user.profile.phoneNumber) {
    claims.phone_number = user.profile.phoneNumber
    claims.phone_number_verified = false
  }
  if (has('address') && address) {
    claims.address = {
      postal_code: address.postalCode,
      region: address.region,
      locality: address.locality,
      street_address: address.streetAddress,
      country: address.country,
    }
  }
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
  'family_name',
  'given_name',
  'middle_name',
  'family_name_pronunciation',
  'given_name_pronunciation',
  'gender',
  'birthdate',
  'phone_number',
  'phone_number_verified',
  'address',
]

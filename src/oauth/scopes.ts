// Scopes plusid knows, which of them carry personal data the user can refuse, and the rules of
// docs/protocol.md (authorization requests) for combining them.
import { DATA_ITEMS, isDataItem, type DataItem } from '../domain/profile.ts'
import { OAuthError } from './errors.ts'

export { DATA_ITEMS, isDataItem, type DataItem } from '../domain/profile.ts'

export const REQUIRED_SCOPES = ['openid', 'profile'] as const
export const SUPPORTED_SCOPES = [...REQUIRED_SCOPES, ...DATA_ITEMS] as const
export type Scope = (typeof SUPPORTED_SCOPES)[number]

// Sent by some standard clients; plusid always issues refresh tokens, so it changes nothing.
const IGNORED_SCOPES = new Set(['offline_access'])

// plusid knows 9 scope values: a scope text longer than this is no mistake worth reading through.
export const MAX_SCOPE_LENGTH = 1024
export const MAX_SCOPE_VALUES = 32

/**
 * The requested scopes, in request order without duplicates. Refused with invalid_scope: an
 * unknown scope, neither `openid` nor `profile`, or a data item without `openid` (email and
 * Profile+ data travel in the ID token, LINE's rule).
 */
export function parseScope(scope: string): Scope[] {
  if (scope.length > MAX_SCOPE_LENGTH) throw new OAuthError('invalid_scope', `scope must be at most ${MAX_SCOPE_LENGTH} characters`)
  const values = scope.split(' ').filter((s) => s !== '')
  if (values.length > MAX_SCOPE_VALUES) throw new OAuthError('invalid_scope', `scope must name at most ${MAX_SCOPE_VALUES} values`)
  const requested = [...new Set(values)].filter((s) => !IGNORED_SCOPES.has(s))
  const unknown = requested.filter((s) => !(SUPPORTED_SCOPES as readonly string[]).includes(s))
  if (unknown.length > 0) throw new OAuthError('invalid_scope', `unsupported scope: ${unknown.join(' ')}`)
  const scopes = requested as Scope[]
  if (!scopes.includes('openid') && !scopes.includes('profile'))
    throw new OAuthError('invalid_scope', 'scope must include openid or profile')
  const items = scopes.filter(isDataItem)
  if (items.length > 0 && !scopes.includes('openid')) throw new OAuthError('invalid_scope', `${items.join(' ')} requires the openid scope`)
  return scopes
}

/** The items a channel asks for but is not approved to receive (docs/profile-claims.md: fail closed). */
export function unpermittedItems(scopes: readonly Scope[], approved: readonly string[]): DataItem[] {
  return scopes.filter(isDataItem).filter((item) => !approved.includes(item))
}

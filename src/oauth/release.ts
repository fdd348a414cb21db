// What a release carries: the one rule every release point applies — code exchange, refresh,
// userinfo, /v2/profile, verify and introspection — computed at that moment, never remembered
// from the login. A consent withdrawn, a permission or channel suspended, a grant unlinked or an
// account disabled therefore narrows or ends every live token at once.
import type { ReleaseState } from '../domain/release.ts'
import { isDataItem } from './scopes.ts'

export type { ReleaseState } from '../domain/release.ts'

/**
 * The scopes that may be released now: the token's scope ∩ the user's current grant ∩ the
 * channel's approved permissions. Null when nothing may: no grant, a suspended channel or a
 * disabled user — the token is dead.
 */
export function releasableScopes(state: ReleaseState): string[] | null {
  if (state.grantedItems === null || state.channelSuspended || state.userDisabled) return null
  const granted = state.grantedItems
  return state.tokenScopes.filter((scope) => !isDataItem(scope) || (granted.includes(scope) && state.approvedItems.includes(scope)))
}

/** The data items among scopes (what the audit log records as released). */
export function releasedItems(scopes: readonly string[]): string[] {
  return scopes.filter(isDataItem)
}

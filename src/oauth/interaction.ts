// What an authorization request needs next: a login, a consent, or nothing (issue the code).
// Pure protocol logic: the caller gathers the session, the grant and the channel.
import type { AuthorizationRequest } from './authorize.ts'
import type { Grant } from '../domain/release.ts'
import { OAuthError } from './errors.ts'
import { isDataItem, type DataItem, type Scope } from './scopes.ts'

export type { Grant } from '../domain/release.ts'

export interface DecisionInput {
  request: Pick<AuthorizationRequest, 'scopes' | 'prompt' | 'maxAge'>
  channelIsPublic: boolean
  /** The logged-in user, if any, and when they last entered their password. */
  session: { userId: string; authTime: Date } | null
  /** The user logged in during this very interaction (after prompt=login or max_age). */
  loggedInNow: boolean
  /** The id_token_hint names another user than the session's. */
  hintMismatch: boolean
  /** The user may use the channel (always, unless it is in development and they are not a member or tester). */
  mayUseChannel: boolean
  grant: Grant | null
  now: Date
}

export type NextStep = { step: 'login' } | { step: 'consent'; undecided: DataItem[] } | { step: 'issue'; scopes: Scope[]; amr: string[] }

/** Throws OAuthError when the answer must go back to the channel (prompt=none, access denied). */
export function nextStep(input: DecisionInput): NextStep {
  const { request, session, now } = input
  const silent = request.prompt.includes('none')

  const tooOld = session !== null && request.maxAge !== undefined && now.getTime() - session.authTime.getTime() > request.maxAge * 1000
  const needsLogin = session === null || input.hintMismatch || (!input.loggedInNow && (request.prompt.includes('login') || tooOld))
  if (needsLogin) {
    if (silent) throw new OAuthError('login_required', session === null ? 'the user is not logged in' : 'the user must log in again')
    return { step: 'login' }
  }
  if (!input.mayUseChannel) {
    throw new OAuthError('access_denied', 'the channel is in development: only its developers and testers can log in')
  }

  const items = request.scopes.filter(isDataItem)
  const required = request.scopes.filter((scope) => !isDataItem(scope))
  const grant = input.grant ?? { grantedItems: [], refusedItems: [] }
  const undecided = items.filter((item) => !grant.grantedItems.includes(item) && !grant.refusedItems.includes(item))
  const requiredUngranted = required.some((scope) => !grant.grantedItems.includes(scope))
  // A public channel's callback can be claimed by another app: personal data is never released
  // without the user seeing the consent page (docs/protocol.md, RFC 8252 §8.6).
  const needsConsent =
    request.prompt.includes('consent') || undecided.length > 0 || requiredUngranted || (input.channelIsPublic && items.length > 0)
  if (needsConsent) {
    if (silent) throw new OAuthError('consent_required', 'the user has not consented to everything requested')
    return { step: 'consent', undecided }
  }
  return { step: 'issue', scopes: grantedScopes(request.scopes, grant), amr: loginMethods(input.loggedInNow) }
}

/**
 * The one `amr` decision: a password typed during this interaction is `pwd`; a login carried over
 * from an earlier session of this browser is single sign-on (`linesso`, as LINE names it).
 */
export function loginMethods(loggedInNow: boolean): string[] {
  return [loggedInNow ? 'pwd' : 'linesso']
}

/** The requested scopes the grant covers: required ones, and data items granted (not refused). */
export function grantedScopes(requested: readonly Scope[], grant: Grant): Scope[] {
  return requested.filter((scope) => !isDataItem(scope) || grant.grantedItems.includes(scope))
}

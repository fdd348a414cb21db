// What storage reads for the protocol's release rule (oauth/release.ts, oauth/claims.ts) and for
// the interaction (oauth/interaction.ts): shapes only, on the bottom layer both import.
import type { ProfilePlus } from './profile.ts'

/** A user's decision for a channel: the items granted and the ones refused. */
export interface Grant {
  grantedItems: string[]
  refusedItems: string[]
}

/** What claims are made of. */
export interface ClaimSource {
  displayName: string
  pictureUrl: string | null
  email: string
  profile: ProfilePlus
}

/** The state a release depends on, read in the statement that reads the token. */
export interface ReleaseState {
  /** The scopes the token (or code) was issued for. */
  tokenScopes: readonly string[]
  /** The items of the user's current grant to the channel; null when there is none (unlinked). */
  grantedItems: readonly string[] | null
  /** The channel's permissions approved now (suspended or rejected ones are not). */
  approvedItems: readonly string[]
  channelSuspended: boolean
  userDisabled: boolean
}

// RP-initiated logout's decision: where the browser may go afterwards. The id_token_hint (expired
// or not) names the channel; post_logout_redirect_uri must be one of its logout URLs, exactly.
import { findChannel } from '../storage/channels.ts'
import type { MessageKey } from '../i18n/index.ts'
import { callbackWith } from './authorize.ts'
import { matchLogoutUrl } from './callback-urls.ts'
import type { OAuthContext } from './context.ts'
import { IdTokenError, verifyIdToken } from './id-token.ts'

export interface LogoutRequest {
  idTokenHint?: string
  postLogoutRedirectUri?: string
  state?: string
  clientId?: string
}

/** Where to send the browser afterwards, or the message of the refusal page. */
export async function resolveLogoutReturn(ctx: OAuthContext, logout: LogoutRequest): Promise<{ returnTo?: string; error?: MessageKey }> {
  let clientId = logout.clientId
  if (logout.idTokenHint) {
    try {
      const payload = await verifyIdToken(logout.idTokenHint, {
        issuer: ctx.issuer,
        keys: ctx.keys,
        masterKey: ctx.masterKey,
        channel: (aud) => findChannel(ctx.db, aud),
        allowExpired: true,
      })
      if (clientId && clientId !== payload.aud) return { error: 'endSession.clientMismatch' }
      clientId = payload.aud
    } catch (error) {
      if (error instanceof IdTokenError) return { error: 'endSession.badHint' }
      throw error
    }
  }
  if (!logout.postLogoutRedirectUri) return {}
  const channel = clientId ? await findChannel(ctx.db, clientId) : undefined
  if (!channel || !matchLogoutUrl(logout.postLogoutRedirectUri, channel.logoutUrls)) {
    return { error: 'endSession.unregistered' }
  }
  return { returnTo: callbackWith(logout.postLogoutRedirectUri, { state: logout.state }) }
}

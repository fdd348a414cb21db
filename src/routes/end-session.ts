// GET/POST /oauth2/v2.1/logout: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
// The user confirms with a form (a link alone must not log anyone out); then the browser goes
// back to post_logout_redirect_uri — only a callback URL registered for the channel — with state.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { endSession } from '../auth/session.ts'
import { formBody } from '../http/forms.ts'
import { callbackWith } from '../oauth/authorize.ts'
import { matchCallbackUrl } from '../oauth/callback-urls.ts'
import { ENDPOINTS } from '../oauth/discovery.ts'
import { IdTokenError, verifyIdToken } from '../oauth/id-token.ts'
import { findChannel } from '../storage/channels.ts'

interface LogoutRequest {
  idTokenHint?: string
  postLogoutRedirectUri?: string
  state?: string
  clientId?: string
}

function read(params: Record<string, unknown>): LogoutRequest {
  const text = (name: string) => (typeof params[name] === 'string' && params[name] !== '' ? (params[name] as string) : undefined)
  return { idTokenHint: text('id_token_hint'), postLogoutRedirectUri: text('post_logout_redirect_uri'), state: text('state'), clientId: text('client_id') }
}

export default async function endSessionRoutes(app: FastifyInstance) {
  /** Where to send the browser afterwards, or an error message for a page. */
  const resolveReturn = async (logout: LogoutRequest): Promise<{ returnTo?: string; error?: string }> => {
    let clientId = logout.clientId
    if (logout.idTokenHint) {
      try {
        const payload = await verifyIdToken(logout.idTokenHint, { issuer: app.oauth.issuer, keys: app.oauth.keys, masterKey: app.oauth.masterKey, channel: (aud) => findChannel(app.db, aud), allowExpired: true })
        if (clientId && clientId !== payload.aud) return { error: 'The client_id does not match the id_token_hint.' }
        clientId = payload.aud
      } catch (error) {
        if (error instanceof IdTokenError) return { error: 'The id_token_hint is not a valid ID token of this server.' }
        throw error
      }
    }
    if (!logout.postLogoutRedirectUri) return {}
    const channel = clientId ? await findChannel(app.db, clientId) : undefined
    if (!channel || !matchCallbackUrl(logout.postLogoutRedirectUri, channel.callbackUrls, channel.kind)) {
      return { error: 'The post_logout_redirect_uri is not registered for this site, so plusid will not send you there.' }
    }
    return { returnTo: callbackWith(logout.postLogoutRedirectUri, { state: logout.state }) }
  }

  const loggedOutPage = (reply: FastifyReply) =>
    reply.page('error', { title: 'Logged out', heading: 'You are logged out of plusid', message: 'You can close this page.', link: { href: '/login', label: 'Log in again' } })

  const confirm = async (request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>) => {
    const logout = read(params)
    const { returnTo, error } = await resolveReturn(logout)
    if (error) return reply.code(400).page('error', { title: 'Logout request refused', heading: 'This logout request cannot be completed', message: error, link: { href: '/', label: 'Go to plusid' } })
    await app.loadSession(request, reply)
    if (!request.auth) return returnTo ? reply.redirect(returnTo, 303) : loggedOutPage(reply)
    const hidden = Object.entries({ id_token_hint: logout.idTokenHint, post_logout_redirect_uri: logout.postLogoutRedirectUri, state: logout.state, client_id: logout.clientId }).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    )
    return reply.page('end-session', { title: 'Log out', hidden }, returnTo ? { formAction: [returnTo] } : {})
  }

  app.get(ENDPOINTS.endSession, (request, reply) => confirm(request, reply, request.query as Record<string, unknown>))

  app.post(ENDPOINTS.endSession, { preHandler: app.csrfProtection }, async (request, reply) => {
    const body = formBody(request.body)
    // The confirmation form says which button was pressed; anything else is a first request.
    if (body.logout === undefined && body.stay === undefined) return confirm(request, reply, body)
    const { returnTo, error } = await resolveReturn(read(body))
    if (error) return reply.code(400).page('error', { title: 'Logout request refused', heading: 'This logout request cannot be completed', message: error, link: { href: '/', label: 'Go to plusid' } })
    if (body.logout !== undefined) {
      await app.loadSession(request, reply)
      await endSession(app.db, request.auth?.token)
      request.auth = null
      reply.clearSessionCookie()
    }
    return returnTo ? reply.redirect(returnTo, 303) : body.logout !== undefined ? loggedOutPage(reply) : reply.redirect('/account', 303)
  })
}

// GET/POST /oauth2/v2.1/logout: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
// The user confirms with a form (a link alone must not log anyone out); then the browser goes
// back to post_logout_redirect_uri — only one of the channel's logout URLs, matched exactly — with state.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { endSession } from '../auth/session.ts'
import { formBody } from '../http/forms.ts'
import { callbackWith } from '../oauth/authorize.ts'
import { matchLogoutUrl } from '../oauth/callback-urls.ts'
import { ENDPOINTS } from '../oauth/discovery.ts'
import { IdTokenError, verifyIdToken } from '../oauth/id-token.ts'
import { findChannel } from '../storage/channels.ts'
import type { MessageKey } from '../i18n/index.ts'

interface LogoutRequest {
  idTokenHint?: string
  postLogoutRedirectUri?: string
  state?: string
  clientId?: string
}

function read(params: Record<string, unknown>): LogoutRequest {
  const text = (name: string) => (typeof params[name] === 'string' && params[name] !== '' ? (params[name] as string) : undefined)
  return {
    idTokenHint: text('id_token_hint'),
    postLogoutRedirectUri: text('post_logout_redirect_uri'),
    state: text('state'),
    clientId: text('client_id'),
  }
}

export default async function endSessionRoutes(app: FastifyInstance) {
  /** Where to send the browser afterwards, or the message of the refusal page. */
  const resolveReturn = async (logout: LogoutRequest): Promise<{ returnTo?: string; error?: MessageKey }> => {
    let clientId = logout.clientId
    if (logout.idTokenHint) {
      try {
        const payload = await verifyIdToken(logout.idTokenHint, {
          issuer: app.oauth.issuer,
          keys: app.oauth.keys,
          masterKey: app.oauth.masterKey,
          channel: (aud) => findChannel(app.db, aud),
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
    const channel = clientId ? await findChannel(app.db, clientId) : undefined
    if (!channel || !matchLogoutUrl(logout.postLogoutRedirectUri, channel.logoutUrls)) {
      return { error: 'endSession.unregistered' }
    }
    return { returnTo: callbackWith(logout.postLogoutRedirectUri, { state: logout.state }) }
  }

  const loggedOutPage = (reply: FastifyReply) => {
    const t = reply.request.t.bind(reply.request)
    return reply.page('error', {
      title: t('endSession.doneTitle'),
      heading: t('endSession.doneHeading'),
      message: t('endSession.doneMessage'),
      link: { href: '/login', label: t('endSession.loginAgain') },
    })
  }

  const refusedPage = (reply: FastifyReply, error: MessageKey) => {
    const t = reply.request.t.bind(reply.request)
    return reply.code(400).page('error', {
      title: t('endSession.refusedTitle'),
      heading: t('endSession.refusedHeading'),
      message: t(error),
      link: { href: '/', label: t('common.goToPlusid') },
    })
  }

  const confirm = async (request: FastifyRequest, reply: FastifyReply, params: Record<string, unknown>) => {
    const logout = read(params)
    const { returnTo, error } = await resolveReturn(logout)
    if (error) return refusedPage(reply, error)
    await app.loadSession(request, reply)
    if (!request.auth) return returnTo ? reply.redirect(returnTo, 303) : loggedOutPage(reply)
    const hidden = Object.entries({
      id_token_hint: logout.idTokenHint,
      post_logout_redirect_uri: logout.postLogoutRedirectUri,
      state: logout.state,
      client_id: logout.clientId,
    }).filter((entry): entry is [string, string] => entry[1] !== undefined)
    return reply.page('end-session', { title: request.t('endSession.title'), hidden }, returnTo ? { formAction: [returnTo] } : {})
  }

  app.get(ENDPOINTS.endSession, (request, reply) => confirm(request, reply, request.query as Record<string, unknown>))

  app.post(ENDPOINTS.endSession, { preHandler: app.csrfProtection }, async (request, reply) => {
    const body = formBody(request.body)
    // The confirmation form says which button was pressed; anything else is a first request.
    if (body.logout === undefined && body.stay === undefined) return confirm(request, reply, body)
    const { returnTo, error } = await resolveReturn(read(body))
    if (error) return refusedPage(reply, error)
    if (body.logout !== undefined) {
      await app.loadSession(request, reply)
      await endSession(app.db, request.auth?.token)
      request.auth = null
      reply.clearSessionCookie()
    }
    return returnTo ? reply.redirect(returnTo, 303) : body.logout !== undefined ? loggedOutPage(reply) : reply.redirect('/account', 303)
  })
}

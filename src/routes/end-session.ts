// GET/POST /oauth2/v2.1/logout: RP-initiated logout (OpenID Connect RP-Initiated Logout 1.0).
// The user confirms with a form (a link alone must not log anyone out); then the browser goes
// back to post_logout_redirect_uri — only one of the channel's logout URLs, matched exactly — with state.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { logOut } from '../accounts/logout.ts'
import { formBody } from '../http/forms.ts'
import type { MessageKey } from '../i18n/index.ts'
import { ENDPOINTS } from '../oauth/discovery.ts'
import { type LogoutRequest, resolveLogoutReturn } from '../oauth/end-session.ts'

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
  const resolveReturn = (logout: LogoutRequest) => resolveLogoutReturn(app.oauth, logout)

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
      await logOut(app, request.auth?.token)
      request.auth = null
      reply.clearSessionCookie()
    }
    return returnTo ? reply.redirect(returnTo, 303) : body.logout !== undefined ? loggedOutPage(reply) : reply.redirect('/account', 303)
  })
}

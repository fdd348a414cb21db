// The signed-in user's invitations: to join a provider as a member or a channel as a tester. They
// are shown here only, to the invitee, who accepts or declines each (console/invitations.ts).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { answerInvitation } from '../console/invitations.ts'
import { formBody } from '../http/forms.ts'
import { pendingInvitations } from '../privacy/invitations.ts'

export default async function invitationRoutes(app: FastifyInstance) {
  const page = async (request: FastifyRequest, reply: FastifyReply, notice: string | null = null) => {
    const invitations = await pendingInvitations(app.db, request.auth!.user.id)
    return reply.page('invitations', { title: request.t('invitations.title'), invitations, notice })
  }

  app.get('/account/invitations', { preHandler: app.requireUser }, async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done
    return page(
      request,
      reply,
      done === 'accepted' ? request.t('invitations.accepted') : done === 'declined' ? request.t('invitations.declined') : null,
    )
  })

  app.post('/account/invitations/:id', { preHandler: [app.csrfProtection, app.requireUser] }, async (request, reply) => {
    const decision = formBody(request.body).decision
    if (decision !== 'accept' && decision !== 'decline') return page(request, reply.code(400), request.t('invitations.chooseOne'))
    const answered = await answerInvitation(
      app.db,
      { userId: request.auth!.user.id, ip: request.ip },
      (request.params as { id: string }).id,
      decision === 'accept',
    )
    if (!answered) return page(request, reply.code(404), request.t('invitations.gone'))
    return reply.redirect(`/account/invitations?done=${decision === 'accept' ? 'accepted' : 'declined'}`, 303)
  })
}

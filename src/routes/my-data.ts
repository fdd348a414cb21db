// The signed-in user's control over their data: authorized apps (and unlinking one), the
// sharing history, and their browser sessions.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { accountsContext, originOf } from '../accounts/context.ts'
import { deleteAccount } from '../accounts/delete-account.ts'
import type { Config } from '../config.ts'
import { formBody } from '../http/forms.ts'
import { describeDevice } from '../http/user-agent.ts'
import { authorizedApps, unlinkApp } from '../privacy/apps.ts'
import { exportAccount } from '../privacy/export.ts'
import { sharingHistory } from '../privacy/history.ts'
import { browserSessions, endBrowserSession, endOtherBrowserSessions } from '../privacy/sessions.ts'
import { itemLabel } from '../profile/labels.ts'

/** The signed-in user acting on their own data (the audit entry names them and the request's IP). */
const self = (request: FastifyRequest) => ({ userId: request.auth!.user.id, ip: request.ip })

export default async function myDataRoutes(app: FastifyInstance, { config }: { config: Config }) {
  const accounts = accountsContext(app, config)
  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)

    scope.get('/account/apps', async (request, reply) => {
      const apps = await authorizedApps(app.db, request.auth!.user.id)
      const notice = (request.query as Record<string, unknown>).unlinked === '1' ? request.t('apps.unlinked') : null
      const label = (item: string) => itemLabel(request.locale, item)
      return reply.page('apps', {
        title: request.t('apps.title'),
        notice,
        apps: apps.map((a) => ({
          ...a,
          granted: a.grantedItems.filter((item) => item !== 'openid' && item !== 'profile').map(label),
          refused: a.refusedItems.map(label),
        })),
      })
    })

    scope.post('/account/apps/:channelId/unlink', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { channelId } = request.params as { channelId: string }
      const unlinked = await unlinkApp(app.db, self(request), channelId)
      if (!unlinked) {
        const t = request.t.bind(request)
        return reply.code(404).page('error', {
          title: t('errors.notFoundTitle'),
          heading: t('apps.notFoundHeading'),
          message: t('apps.notFoundMessage'),
          link: { href: '/account/apps', label: t('apps.title') },
        })
      }
      return reply.redirect('/account/apps?unlinked=1', 303)
    })

    scope.get('/account/history', async (request, reply) => {
      const before = (request.query as Record<string, unknown>).before
      const page = await sharingHistory(app.db, request.auth!.user.id, before)
      return reply.page('history', {
        title: request.t('history.title'),
        releases: page.items.map((r) => ({ ...r, items: r.items.map((item) => itemLabel(request.locale, item)) })),
        next: page.next,
      })
    })

    scope.get('/account/sessions', async (request, reply) => {
      const current = request.auth!.session.id
      const sessions = await browserSessions(app.db, request.auth!.user.id)
      const notice = (request.query as Record<string, unknown>).ended ? request.t('sessions.ended') : null
      return reply.page('sessions', {
        title: request.t('sessions.title'),
        notice,
        sessions: sessions.map((s) => ({ ...s, device: describeDevice(request.t.bind(request), s.userAgent), current: s.id === current })),
      })
    })

    scope.post('/account/sessions/:sessionId/end', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { sessionId } = request.params as { sessionId: string }
      if (!(await endBrowserSession(app.db, self(request), sessionId))) {
        const t = request.t.bind(request)
        return reply.code(404).page('error', {
          title: t('errors.notFoundTitle'),
          heading: t('sessions.notFoundHeading'),
          message: t('sessions.notFoundMessage'),
          link: { href: '/account/sessions', label: t('sessions.title') },
        })
      }
      return reply.redirect('/account/sessions?ended=1', 303)
    })

    scope.get('/account/export', async (request, reply) => {
      const document = await exportAccount(app.db, self(request), request.auth!.session)
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="plusid-export.json"')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(document, null, 2))
    })

    scope.get('/account/delete', async (request, reply) => reply.page('delete-account', { title: request.t('delete.title') }))

    scope.post('/account/delete', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { user } = request.auth!
      if (!(await deleteAccount(accounts, originOf(request), user, formBody(request.body).password))) {
        return reply
          .code(400)
          .page('delete-account', { title: request.t('delete.title'), passwordError: request.t('error.notYourPassword') })
      }
      request.auth = null
      const t = request.t.bind(request)
      return reply.clearSessionCookie().page('error', {
        title: t('delete.doneTitle'),
        heading: t('delete.doneHeading'),
        message: t('delete.doneMessage'),
        link: { href: '/register', label: t('delete.createNew') },
      })
    })

    scope.post('/account/sessions/end-others', { preHandler: app.csrfProtection }, async (request, reply) => {
      await endOtherBrowserSessions(app.db, self(request), request.auth!.session.id)
      return reply.redirect('/account/sessions?ended=1', 303)
    })
  })
}

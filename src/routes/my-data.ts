// The signed-in user's control over their data: authorized apps (and unlinking one), the
// sharing history, and their browser sessions.
import type { FastifyInstance } from 'fastify'
import { appendAudit } from '../storage/audit.ts'
import { endOtherSessions, endUserSession, listAuthorizedApps, listReleases, listSessions, unlinkChannel } from '../storage/user-data.ts'
import { ITEM_LABELS } from '../profile/labels.ts'

const label = (item: string) => ITEM_LABELS[item as keyof typeof ITEM_LABELS] ?? item

export default async function myDataRoutes(app: FastifyInstance) {
  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)

    scope.get('/account/apps', async (request, reply) => {
      const apps = await listAuthorizedApps(app.db, request.auth!.user.id)
      const notice = (request.query as Record<string, unknown>).unlinked === '1' ? 'The app was unlinked: it can no longer use your data.' : null
      return reply.page('apps', {
        title: 'Authorized apps',
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
      const userId = request.auth!.user.id
      const unlinked = await app.db.transaction().execute(async (trx) => {
        const done = await unlinkChannel(trx, userId, channelId)
        if (done) await appendAudit(trx, { actorId: userId, actorKind: 'user', ip: request.ip, action: 'grant.revoked', objectType: 'channel', objectId: channelId })
        return done
      })
      if (!unlinked) return reply.code(404).page('error', { title: 'Not found', heading: 'No such app', message: 'This app is not linked to your account.', link: { href: '/account/apps', label: 'Authorized apps' } })
      return reply.redirect('/account/apps?unlinked=1', 303)
    })

    scope.get('/account/history', async (request, reply) => {
      const before = (request.query as Record<string, unknown>).before
      const page = await listReleases(app.db, request.auth!.user.id, { before: typeof before === 'string' && /^\d{1,19}$/.test(before) ? before : undefined, limit: 50 })
      return reply.page('history', { title: 'Sharing history', releases: page.items.map((r) => ({ ...r, items: r.items.map(label) })), next: page.next })
    })

    scope.get('/account/sessions', async (request, reply) => {
      const current = request.auth!.session.id
      const sessions = await listSessions(app.db, request.auth!.user.id, new Date())
      const notice = (request.query as Record<string, unknown>).ended ? 'The session was ended.' : null
      return reply.page('sessions', { title: 'Sessions', notice, sessions: sessions.map((s) => ({ ...s, current: s.id === current })) })
    })

    scope.post('/account/sessions/:sessionId/end', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { sessionId } = request.params as { sessionId: string }
      const userId = request.auth!.user.id
      if (!(await endUserSession(app.db, userId, sessionId))) {
        return reply.code(404).page('error', { title: 'Not found', heading: 'No such session', message: 'It has ended already.', link: { href: '/account/sessions', label: 'Sessions' } })
      }
      await appendAudit(app.db, { actorId: userId, actorKind: 'user', ip: request.ip, action: 'session.ended', objectType: 'user', objectId: userId })
      return reply.redirect('/account/sessions?ended=1', 303)
    })

    scope.post('/account/sessions/end-others', { preHandler: app.csrfProtection }, async (request, reply) => {
      const userId = request.auth!.user.id
      const ended = await endOtherSessions(app.db, userId, request.auth!.session.id)
      await appendAudit(app.db, { actorId: userId, actorKind: 'user', ip: request.ip, action: 'session.ended', objectType: 'user', objectId: userId, details: { count: ended } })
      return reply.redirect('/account/sessions?ended=1', 303)
    })
  })
}

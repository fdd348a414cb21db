// The signed-in user's control over their data: authorized apps (and unlinking one), the
// sharing history, and their browser sessions.
import type { FastifyInstance } from 'fastify'
import { appendAudit } from '../storage/audit.ts'
import {
  deleteUser,
  endOtherSessions,
  endUserSession,
  exportUserData,
  listAuthorizedApps,
  listReleases,
  listSessions,
  unlinkChannel,
} from '../storage/user-data.ts'
import { authenticate } from '../auth/accounts.ts'
import { withinPasswordLimit } from '../auth/password-policy.ts'
import { formBody } from '../http/forms.ts'
import { profileFromRow } from '../storage/profiles.ts'
import { openEmail } from '../storage/users.ts'
import { profileToClaims } from '../profile/profile.ts'
import { itemLabel } from '../profile/labels.ts'
import { describeDevice } from '../http/user-agent.ts'

export default async function myDataRoutes(app: FastifyInstance) {
  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)

    scope.get('/account/apps', async (request, reply) => {
      const apps = await listAuthorizedApps(app.db, request.auth!.user.id)
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
      const userId = request.auth!.user.id
      const unlinked = await app.db.transaction().execute(async (trx) => {
        const done = await unlinkChannel(trx, userId, channelId)
        if (done)
          await appendAudit(trx, {
            actorId: userId,
            actorKind: 'user',
            ip: request.ip,
            action: 'grant.revoked',
            objectType: 'channel',
            objectId: channelId,
          })
        return done
      })
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
      const page = await listReleases(app.db, request.auth!.user.id, {
        before: typeof before === 'string' && /^\d{1,19}$/.test(before) ? before : undefined,
        limit: 50,
      })
      return reply.page('history', {
        title: request.t('history.title'),
        releases: page.items.map((r) => ({ ...r, items: r.items.map((item) => itemLabel(request.locale, item)) })),
        next: page.next,
      })
    })

    scope.get('/account/sessions', async (request, reply) => {
      const current = request.auth!.session.id
      const sessions = await listSessions(app.db, request.auth!.user.id, new Date())
      const notice = (request.query as Record<string, unknown>).ended ? request.t('sessions.ended') : null
      return reply.page('sessions', {
        title: request.t('sessions.title'),
        notice,
        sessions: sessions.map((s) => ({ ...s, device: describeDevice(request.t.bind(request), s.userAgent), current: s.id === current })),
      })
    })

    scope.post('/account/sessions/:sessionId/end', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { sessionId } = request.params as { sessionId: string }
      const userId = request.auth!.user.id
      if (!(await endUserSession(app.db, userId, sessionId))) {
        const t = request.t.bind(request)
        return reply.code(404).page('error', {
          title: t('errors.notFoundTitle'),
          heading: t('sessions.notFoundHeading'),
          message: t('sessions.notFoundMessage'),
          link: { href: '/account/sessions', label: t('sessions.title') },
        })
      }
      await appendAudit(app.db, {
        actorId: userId,
        actorKind: 'user',
        ip: request.ip,
        action: 'session.ended',
        objectType: 'user',
        objectId: userId,
      })
      return reply.redirect('/account/sessions?ended=1', 303)
    })

    scope.get('/account/export', async (request, reply) => {
      const data = await exportUserData(app.db, request.auth!.user.id)
      const current = request.auth!.session
      const document = {
        exported_at: new Date().toISOString(),
        account: {
          id: data.account.id,
          email: openEmail(data.account.id, data.account.email),
          name: data.account.display_name,
          picture_url: data.account.picture_url,
          administrator: data.account.is_admin,
          created_at: data.account.created_at,
          updated_at: data.account.updated_at,
        },
        profile: data.profile
          ? { ...profileToClaims(profileFromRow(data.profile, data.account.id)), updated_at: data.profile.updated_at }
          : {},
        authorized_apps: data.apps.map((a) => ({
          channel_id: a.channelId,
          channel: a.channelName,
          provider: a.providerName,
          granted: a.grantedItems,
          refused: a.refusedItems,
          first_used_at: a.firstUsedAt,
          last_used_at: a.lastUsedAt,
        })),
        sharing_history: data.releases.map((r) => ({ at: r.at, channel_id: r.channelId, channel: r.channelName, items: r.items })),
        provider_memberships: data.memberships.map((m) => ({ provider: m.name, role: m.role, since: m.created_at })),
        sessions: data.sessions.map((s) => ({ ...s, current: s.created_at.getTime() === current.createdAt.getTime() })),
      }
      await appendAudit(app.db, {
        actorId: request.auth!.user.id,
        actorKind: 'user',
        ip: request.ip,
        action: 'account.exported',
        objectType: 'user',
        objectId: request.auth!.user.id,
      })
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="plusid-export.json"')
        .type('application/json; charset=utf-8')
        .send(JSON.stringify(document, null, 2))
    })

    scope.get('/account/delete', async (request, reply) => reply.page('delete-account', { title: request.t('delete.title') }))

    scope.post('/account/delete', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { user } = request.auth!
      const password = formBody(request.body).password
      // The password again: a session left open on a shared computer must not be enough.
      const confirmed =
        typeof password === 'string' && withinPasswordLimit(password)
          ? await authenticate(app.db, app.rateLimits, user.email, password)
          : null
      if (!confirmed || confirmed.id !== user.id) {
        return reply
          .code(400)
          .page('delete-account', { title: request.t('delete.title'), passwordError: request.t('error.notYourPassword') })
      }
      // One transaction: the audit entry (the user's id only, a pseudonym from now on) and the
      // account with everything that references it — all of it, or none.
      await app.db.transaction().execute(async (trx) => {
        await appendAudit(trx, {
          actorId: user.id,
          actorKind: 'user',
          ip: request.ip,
          action: 'account.deleted',
          objectType: 'user',
          objectId: user.id,
        })
        await deleteUser(trx, user.id)
      })
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
      const userId = request.auth!.user.id
      const ended = await endOtherSessions(app.db, userId, request.auth!.session.id)
      await appendAudit(app.db, {
        actorId: userId,
        actorKind: 'user',
        ip: request.ip,
        action: 'session.ended',
        objectType: 'user',
        objectId: userId,
        details: { count: ended },
      })
      return reply.redirect('/account/sessions?ended=1', 303)
    })
  })
}

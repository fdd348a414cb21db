// The administration pages, for an administrator's session.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { formBody } from '../../http/forms.ts'
import { englishIssue, issueMessage, messageText } from '../../i18n/index.ts'
import { reviewChange } from '../../console/changes.ts'
import { Reason, reviewApplication, ReviewError, suspendChannel, suspendPermission, type Actor } from '../../console/review.ts'
import { exportAudit, searchAudit } from '../../admin/audit.ts'
import { channelDetail, searchChannelsPage } from '../../admin/channels.ts'
import { reviewQueue } from '../../admin/queue.ts'
import { liveTokens, revokeToken } from '../../admin/tokens.ts'
import { searchUsersPage, setUserDisabled } from '../../admin/users.ts'
import { AuditQuery, emptyToUndefined, filterOf, optionalReason, PAGE, REVIEW_STATUS, searchText } from './queries.ts'
import { z } from 'zod'

/** What changed after an approval, as administrators read it. */
const CHANGE_FIELD_LABELS = {
  name: 'admin.changeField.name',
  icon_url: 'admin.changeField.icon',
  callback_urls: 'admin.changeField.callbacks',
} as const
const changeText = (value: unknown): string => (value === null ? '—' : Array.isArray(value) ? value.join('\n') : String(value))

export default async function adminPages(app: FastifyInstance) {
  app.addHook('preHandler', app.requireUser)
  app.addHook('preHandler', async (request, reply) => {
    if (!request.auth!.user.isAdmin) {
      const t = request.t.bind(request)
      return reply.code(403).page('error', {
        title: t('errors.forbiddenTitle'),
        heading: t('admin.only'),
        message: t('admin.onlyMessage'),
        link: { href: '/account', label: t('admin.yourAccount') },
      })
    }
    request.adminUser = request.auth!.user
  })
  const actorOf = (request: FastifyRequest): Actor & { userId: string } => ({
    userId: request.adminUser!.id,
    kind: 'admin',
    ip: request.ip,
  })
  const params = (request: FastifyRequest) => request.params as Record<string, string>

  const queuePage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
    const queue = await reviewQueue(app.db, (request.query as Record<string, unknown>).after, PAGE)
    const changes = queue.changes.map((change) => ({
      ...change,
      fieldLabel: request.t(CHANGE_FIELD_LABELS[change.field]),
      oldText: changeText(change.oldValue),
      newText: changeText(change.newValue),
    }))
    return reply.page('admin-queue', {
      title: request.t('admin.queue'),
      applications: queue.applications,
      changes,
      next: queue.next,
      ...extra,
    })
  }
  const review = async (request: FastifyRequest, reply: FastifyReply, decision: { approve: true } | { approve: false; reason: string }) => {
    try {
      await reviewApplication(app.db, actorOf(request), params(request).id!, decision)
    } catch (error) {
      if (!(error instanceof ReviewError)) throw error
      return queuePage(request, reply.code(REVIEW_STATUS[error.kind]), { problem: request.t(error.key, error.params) })
    }
    return reply.redirect('/admin', 303)
  }

  app.get('/admin', async (request, reply) => queuePage(request, reply))
  app.post('/admin/changes/:id/reviewed', { preHandler: app.csrfProtection }, async (request, reply) => {
    if (!(await reviewChange(app.db, actorOf(request), params(request).id!)))
      return queuePage(request, reply.code(404), { problem: request.t('admin.changeGone') })
    return reply.redirect('/admin', 303)
  })
  app.post('/admin/applications/:id/approve', { preHandler: app.csrfProtection }, async (request, reply) =>
    review(request, reply, { approve: true }),
  )
  app.post('/admin/applications/:id/reject', { preHandler: app.csrfProtection }, async (request, reply) => {
    const reason = Reason.safeParse(formBody(request.body).reason)
    if (!reason.success)
      return queuePage(request, reply.code(400), {
        rejectErrors: { [params(request).id!]: messageText(request.t.bind(request), issueMessage(reason.error.issues[0]!)) },
        problem: request.t('admin.rejectNeedsReason'),
      })
    return review(request, reply, { approve: false, reason: reason.data })
  })

  app.get('/admin/channels', async (request, reply) => {
    const q = searchText(request.query, 100)
    const { channels, next } = await searchChannelsPage(app.db, q, (request.query as Record<string, unknown>).after, PAGE)
    return reply.page('admin-channels', { title: request.t('admin.channels'), q, channels, next })
  })

  const channelPage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
    const { channelId } = params(request)
    const detail = await channelDetail(app.db, channelId!)
    if (!detail)
      return reply
        .code(404)
        .page('error', { title: request.t('errors.notFoundTitle'), heading: request.t('admin.noSuchChannel'), message: channelId })
    return reply.page('admin-channel', { title: detail.channel.name, ...detail, ...extra })
  }
  const channelAction = async (request: FastifyRequest, reply: FastifyReply, action: () => Promise<void>) => {
    try {
      await action()
    } catch (error) {
      if (!(error instanceof ReviewError)) throw error
      return channelPage(request, reply.code(REVIEW_STATUS[error.kind]), { problem: request.t(error.key, error.params) })
    }
    return reply.redirect(`/admin/channels/${params(request).channelId}`, 303)
  }

  app.get('/admin/channels/:channelId', async (request, reply) => channelPage(request, reply))
  app.post('/admin/channels/:channelId/suspend', { preHandler: app.csrfProtection }, async (request, reply) => {
    const reason = Reason.safeParse(formBody(request.body).reason)
    if (!reason.success) return channelPage(request, reply.code(400), { problem: request.t('admin.suspendNeedsReason') })
    return channelAction(request, reply, () =>
      suspendChannel(app.db, actorOf(request), params(request).channelId!, { reason: reason.data }),
    )
  })
  app.post('/admin/channels/:channelId/unsuspend', { preHandler: app.csrfProtection }, async (request, reply) =>
    channelAction(request, reply, () => suspendChannel(app.db, actorOf(request), params(request).channelId!, null)),
  )
  app.post('/admin/channels/:channelId/permissions/:item/suspend', { preHandler: app.csrfProtection }, async (request, reply) => {
    const { channelId, item } = params(request)
    const reason = optionalReason(formBody(request.body).reason)
    return channelAction(request, reply, () => suspendPermission(app.db, actorOf(request), channelId!, item!, reason))
  })

  app.get('/admin/users', async (request, reply) => {
    const query = request.query as Record<string, unknown>
    const q = searchText(query, 254)
    const { users, next } = await searchUsersPage(app.db, q, query.after, PAGE)
    const notice =
      query.done === 'disabled' ? request.t('admin.userDisabled') : query.done === 'enabled' ? request.t('admin.userEnabled') : null
    return reply.page('admin-users', { title: request.t('admin.users'), q, users, notice, next })
  })

  const setDisabled = async (request: FastifyRequest, reply: FastifyReply, disabled: boolean) => {
    const outcome = await setUserDisabled(app.db, actorOf(request), params(request).userId!, disabled)
    const back = { href: '/admin/users', label: request.t('admin.users') }
    if (outcome === 'not_found')
      return reply.code(404).page('error', {
        title: request.t('admin.noSuchUserTitle'),
        heading: request.t('admin.noSuchUserHeading'),
        message: request.t('admin.noSuchUserMessage'),
        link: back,
      })
    if (outcome === 'self')
      return reply.code(400).page('error', {
        title: request.t('admin.notAllowedTitle'),
        heading: request.t('admin.cannotDisableSelf'),
        message: request.t('admin.askAnother'),
        link: back,
      })
    return reply.redirect(`/admin/users?done=${disabled ? 'disabled' : 'enabled'}`, 303)
  }
  app.post('/admin/users/:userId/disable', { preHandler: app.csrfProtection }, async (request, reply) => setDisabled(request, reply, true))
  app.post('/admin/users/:userId/enable', { preHandler: app.csrfProtection }, async (request, reply) => setDisabled(request, reply, false))

  // Administrators' API tokens: every live one, and revoking one at once (plusid admin token
  // list/revoke does the same from the command line).
  app.get('/admin/tokens', async (request, reply) => {
    const notice = (request.query as Record<string, unknown>).done === 'revoked' ? request.t('admin.tokenRevoked') : null
    return reply.page('admin-tokens', { title: request.t('admin.apiTokens'), tokens: await liveTokens(app.db, null), notice })
  })
  app.post('/admin/tokens/:tokenId/revoke', { preHandler: app.csrfProtection }, async (request, reply) => {
    const { tokenId } = params(request)
    if (!z.string().uuid().safeParse(tokenId).success || !(await revokeToken(app.db, actorOf(request), tokenId!))) {
      const t = request.t.bind(request)
      return reply.code(404).page('error', {
        title: t('errors.notFoundTitle'),
        heading: t('admin.noSuchToken'),
        message: t('admin.noSuchTokenMessage'),
        link: { href: '/admin/tokens', label: t('admin.apiTokens') },
      })
    }
    return reply.redirect('/admin/tokens?done=revoked', 303)
  })

  app.get('/admin/audit', async (request, reply) => {
    const parsed = AuditQuery.safeParse(emptyToUndefined(request.query))
    if (!parsed.success)
      return reply.code(400).page('error', {
        title: request.t('admin.badFilterTitle'),
        heading: request.t('admin.badFilterHeading'),
        message: `${String(parsed.error.issues[0]!.path[0])} ${messageText(request.t.bind(request), issueMessage(parsed.error.issues[0]!))}`,
      })
    const q = parsed.data
    const filter = filterOf(q)
    const { items, next } = await searchAudit(app.db, filter, { before: q.before ?? q.cursor, limit: q.limit })
    const links = new URLSearchParams(
      Object.entries({ action: q.action, actor: q.actor, object: q.object }).filter((e): e is [string, string] => e[1] !== undefined),
    )
    return reply.page('admin-audit', {
      title: request.t('admin.audit'),
      filter,
      entries: items,
      next,
      nextUrl: `/admin/audit?${new URLSearchParams([...links, ['before', next ?? '']])}`,
      exportUrl: `/admin/audit.jsonl?${links}`,
    })
  })

  // The whole (filtered) log as JSON lines, newest first.
  app.get('/admin/audit.jsonl', async (request, reply) => {
    const parsed = AuditQuery.safeParse(emptyToUndefined(request.query))
    if (!parsed.success)
      return reply.code(400).send({
        error: 'invalid_request',
        message: `${String(parsed.error.issues[0]!.path[0])} ${englishIssue(parsed.error.issues[0]!)}`,
      })
    return reply
      .header('cache-control', 'no-store')
      .header('content-disposition', 'attachment; filename="plusid-audit.jsonl"')
      .type('application/x-ndjson; charset=utf-8')
      .send(await exportAudit(app.db, filterOf(parsed.data)))
  })
}

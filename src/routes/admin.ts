// Administration: the review queue, channels (suspend a channel or an item), users, the audit log
// — as HTML pages for an administrator's session, and as a JSON API under /admin/api/ for an
// administrator's session or API token. Anyone else gets 403.
import { z } from 'zod'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { formBody } from '../http/forms.ts'
import { jsonBodies } from '../plugins/security.ts'
import { Reason, reviewApplication, ReviewError, suspendChannel, suspendPermission, type Actor } from '../console/review.ts'
import { DATA_ITEMS } from '../oauth/scopes.ts'
import { listAdminTokens, revokeAdminToken, useAdminToken } from '../storage/admin-tokens.ts'
import { appendAudit } from '../storage/audit.ts'
import {
  findApplication,
  listApplications,
  listChannelApplications,
  type Application,
  type ApplicationState,
} from '../storage/applications.ts'
import { listAudit, type AuditEntry, type AuditFilter } from '../storage/audit.ts'
import { findChannel } from '../storage/channels.ts'
import { listChannelOwners, searchChannels, searchUsers, type ChannelCursor, type UserCursor } from '../storage/console.ts'
import { findUserById, type User } from '../storage/users.ts'
import { setAccountDisabled } from '../auth/accounts.ts'
import { isUnavailable, RETRY_AFTER_SECONDS } from '../storage/unavailable.ts'
import { englishIssue, issueMessage, messageText } from '../i18n/index.ts'
import { STATE_LABELS } from './console.ts'
import { reviewChange } from '../console/changes.ts'
import { listPendingChanges } from '../storage/channel-changes.ts'

const PAGE = 50

/** What changed after an approval, as administrators read it. */
const CHANGE_FIELD_LABELS = {
  name: 'admin.changeField.name',
  icon_url: 'admin.changeField.icon',
  callback_urls: 'admin.changeField.callbacks',
} as const
const changeText = (value: unknown): string => (value === null ? '—' : Array.isArray(value) ? value.join('\n') : String(value))

/**
 * Opaque keyset cursors: base64url of the last row's sort key. One this server did not issue (not
 * base64url JSON of the expected shape, an id that is not one, a date PostgreSQL cannot hold) is
 * refused with 400 — reading it as "none" would hide the mistake, and passing it on gave a 500.
 */
export class BadCursor extends Error {
  readonly statusCode = 400
  readonly code = 'PLUSID_BAD_CURSOR'
  constructor() {
    super('cursor is not one this server issued: use the "next" value of the previous page')
  }
}
const encodeCursor = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url')
// Within what PostgreSQL's timestamptz and JavaScript's Date both hold.
const cursorDate = z.iso
  .datetime({ offset: true })
  .transform((value) => new Date(value))
  .refine((d) => d.getUTCFullYear() >= 1970 && d.getUTCFullYear() <= 9999)
const ChannelAfterCursor = z.object({ createdAt: cursorDate, id: z.string().regex(/^\d{10}$/) }).strict()
const UuidAfterCursor = z.object({ createdAt: cursorDate, id: z.uuid() }).strict()
const NameCursor = z.object({ name: z.string().max(400), id: z.string().regex(/^\d{10}$/) }).strict()

function decodeCursor<T>(cursor: unknown, schema: z.ZodType<T>): T | undefined {
  if (cursor === undefined || cursor === '') return undefined
  if (typeof cursor !== 'string' || cursor.length > 800 || !/^[A-Za-z0-9_-]+$/.test(cursor)) throw new BadCursor()
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString())
  } catch {
    throw new BadCursor()
  }
  const parsed = schema.safeParse(value)
  if (!parsed.success) throw new BadCursor()
  return parsed.data
}
const decodeAfter = (cursor: unknown): { createdAt: Date; id: string } | undefined => decodeCursor(cursor, UuidAfterCursor)
const decodeUserCursor = (cursor: unknown): UserCursor | undefined => decodeCursor(cursor, UuidAfterCursor)
const decodeChannelCursor = (cursor: unknown): ChannelCursor | undefined => decodeCursor(cursor, z.union([NameCursor, ChannelAfterCursor]))
const userCursor = (last: User) => encodeCursor({ createdAt: last.createdAt, id: last.id })
const channelCursor = (q: string, last: { id: string; created_at: Date; name_key: string }) =>
  encodeCursor(q ? { name: last.name_key, id: last.id } : { createdAt: last.created_at, id: last.id })

const AuditQuery = z.object({
  action: z.string().max(100).optional(),
  actor: z.string().uuid('error.userId').optional(),
  object: z.string().max(100).optional(),
  cursor: z
    .string()
    .regex(/^\d{1,19}$/, 'error.cursor')
    .optional(),
  before: z
    .string()
    .regex(/^\d{1,19}$/, 'error.cursor')
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(PAGE),
})

const emptyToUndefined = (query: Record<string, unknown>) => Object.fromEntries(Object.entries(query).filter(([, value]) => value !== ''))

function auditJson(entry: AuditEntry) {
  return {
    id: entry.id,
    at: entry.at.toISOString(),
    actor: entry.actorId,
    actor_kind: entry.actorKind,
    action: entry.action,
    object: entry.objectId,
    object_type: entry.objectType,
    ip: entry.ip,
    details: entry.details,
  }
}

function applicationJson(application: Application) {
  return {
    id: application.id,
    channel_id: application.channelId,
    channel_name: application.channelName,
    provider: application.providerName,
    item: application.item,
    purpose: application.purpose,
    policy_url: application.policyUrl,
    state: application.state,
    reason: application.reason,
    created_at: application.createdAt.toISOString(),
    decided_at: application.decidedAt?.toISOString() ?? null,
  }
}

const REVIEW_STATUS = { forbidden: 403, not_found: 404, conflict: 409, invalid: 400 } as const

export default async function adminRoutes(app: FastifyInstance) {
  const actorOf = (request: FastifyRequest, kind: 'admin' | 'api'): Actor => ({ userId: request.adminUser!.id, kind, ip: request.ip })

  // ---------- HTML pages: an administrator's session ----------
  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)
    scope.addHook('preHandler', async (request, reply) => {
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

    const queuePage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
      const after = decodeAfter((request.query as Record<string, unknown>).after)
      const applications = await listApplications(app.db, 'applied', { after, limit: PAGE })
      const withOwners = await Promise.all(applications.map(async (a) => ({ ...a, owners: await listChannelOwners(app.db, a.providerId) })))
      const last = applications[applications.length - 1]
      const changes = (await listPendingChanges(app.db, PAGE)).map((change) => ({
        ...change,
        fieldLabel: request.t(CHANGE_FIELD_LABELS[change.field]),
        oldText: changeText(change.oldValue),
        newText: changeText(change.newValue),
      }))
      return reply.page('admin-queue', {
        title: request.t('admin.queue'),
        applications: withOwners,
        changes,
        next: applications.length === PAGE && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
        ...extra,
      })
    }

    const review = async (
      request: FastifyRequest,
      reply: FastifyReply,
      decision: { approve: true } | { approve: false; reason: string },
    ) => {
      const { id } = request.params as { id: string }
      try {
        await reviewApplication(app.db, actorOf(request, 'admin'), id, decision)
      } catch (error) {
        if (!(error instanceof ReviewError)) throw error
        return queuePage(request, reply.code(REVIEW_STATUS[error.kind]), { problem: request.t(error.key, error.params) })
      }
      return reply.redirect('/admin', 303)
    }

    scope.get('/admin', async (request, reply) => queuePage(request, reply))
    scope.post('/admin/changes/:id/reviewed', { preHandler: app.csrfProtection }, async (request, reply) => {
      const done = await reviewChange(
        app.db,
        { ...actorOf(request, 'admin'), userId: request.adminUser!.id },
        (request.params as { id: string }).id,
      )
      if (!done) return queuePage(request, reply.code(404), { problem: request.t('admin.changeGone') })
      return reply.redirect('/admin', 303)
    })
    scope.post('/admin/applications/:id/approve', { preHandler: app.csrfProtection }, async (request, reply) =>
      review(request, reply, { approve: true }),
    )
    scope.post('/admin/applications/:id/reject', { preHandler: app.csrfProtection }, async (request, reply) => {
      const reason = Reason.safeParse(formBody(request.body).reason)
      const { id } = request.params as { id: string }
      if (!reason.success)
        return queuePage(request, reply.code(400), {
          rejectErrors: { [id]: messageText(request.t.bind(request), issueMessage(reason.error.issues[0]!)) },
          problem: request.t('admin.rejectNeedsReason'),
        })
      return review(request, reply, { approve: false, reason: reason.data })
    })

    scope.get('/admin/channels', async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 100) : ''
      const channels = await searchChannels(app.db, q, { after: decodeChannelCursor(query.after), limit: PAGE })
      const last = channels[channels.length - 1]
      return reply.page('admin-channels', {
        title: request.t('admin.channels'),
        q,
        channels,
        next: channels.length === PAGE && last ? channelCursor(q, last) : null,
      })
    })

    const channelPage = async (request: FastifyRequest, reply: FastifyReply, extra: Record<string, unknown> = {}) => {
      const { channelId } = request.params as { channelId: string }
      const channel = await findChannel(app.db, channelId)
      if (!channel)
        return reply
          .code(404)
          .page('error', { title: request.t('errors.notFoundTitle'), heading: request.t('admin.noSuchChannel'), message: channelId })
      const applications = await listChannelApplications(app.db, channel.id)
      const permissions = DATA_ITEMS.map((item) => {
        const state = channel.approvedItems.includes(item)
          ? 'approved'
          : (applications.find((a) => a.item === item)?.state ?? 'not applied')
        return { item, state, stateLabel: request.t(STATE_LABELS[state] ?? 'console.state.notApplied') }
      })
      const provider = await app.db.selectFrom('providers').select('name').where('id', '=', channel.providerId).executeTakeFirstOrThrow()
      return reply.page('admin-channel', {
        title: channel.name,
        channel,
        permissions,
        providerName: provider.name,
        owners: await listChannelOwners(app.db, channel.providerId),
        ...extra,
      })
    }
    const channelAction = async (request: FastifyRequest, reply: FastifyReply, action: () => Promise<void>) => {
      try {
        await action()
      } catch (error) {
        if (!(error instanceof ReviewError)) throw error
        return channelPage(request, reply.code(REVIEW_STATUS[error.kind]), { problem: request.t(error.key, error.params) })
      }
      return reply.redirect(`/admin/channels/${(request.params as { channelId: string }).channelId}`, 303)
    }

    scope.get('/admin/channels/:channelId', async (request, reply) => channelPage(request, reply))
    scope.post('/admin/channels/:channelId/suspend', { preHandler: app.csrfProtection }, async (request, reply) => {
      const reason = Reason.safeParse(formBody(request.body).reason)
      if (!reason.success) return channelPage(request, reply.code(400), { problem: request.t('admin.suspendNeedsReason') })
      return channelAction(request, reply, () =>
        suspendChannel(app.db, actorOf(request, 'admin'), (request.params as { channelId: string }).channelId, { reason: reason.data }),
      )
    })
    scope.post('/admin/channels/:channelId/unsuspend', { preHandler: app.csrfProtection }, async (request, reply) =>
      channelAction(request, reply, () =>
        suspendChannel(app.db, actorOf(request, 'admin'), (request.params as { channelId: string }).channelId, null),
      ),
    )
    scope.post('/admin/channels/:channelId/permissions/:item/suspend', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { channelId, item } = request.params as { channelId: string; item: string }
      const reason = formBody(request.body).reason
      return channelAction(request, reply, () =>
        suspendPermission(
          app.db,
          actorOf(request, 'admin'),
          channelId,
          item,
          typeof reason === 'string' && reason.trim() ? reason.trim() : null,
        ),
      )
    })

    scope.get('/admin/users', async (request, reply) => {
      const query = request.query as Record<string, unknown>
      const q = typeof query.q === 'string' ? query.q.trim().slice(0, 254) : ''
      const users = await searchUsers(app.db, q, { after: decodeUserCursor(query.after), limit: PAGE })
      const last = users[users.length - 1]
      const done =
        query.done === 'disabled' ? request.t('admin.userDisabled') : query.done === 'enabled' ? request.t('admin.userEnabled') : null
      return reply.page('admin-users', {
        title: request.t('admin.users'),
        q,
        users,
        notice: done,
        next: !q && users.length === PAGE && last ? userCursor(last) : null,
      })
    })

    // Disabling ends the account's sessions and tokens at once (auth/accounts.ts); enabling lets it
    // log in again. An administrator cannot disable themselves (nobody would be left to undo it).
    const setDisabled = async (request: FastifyRequest, reply: FastifyReply, disabled: boolean) => {
      const { userId } = request.params as { userId: string }
      const back = { href: '/admin/users', label: request.t('admin.users') }
      if (!z.string().uuid().safeParse(userId).success || !(await findUserById(app.db, userId))) {
        return reply.code(404).page('error', {
          title: request.t('admin.noSuchUserTitle'),
          heading: request.t('admin.noSuchUserHeading'),
          message: request.t('admin.noSuchUserMessage'),
          link: back,
        })
      }
      if (disabled && userId === request.adminUser!.id) {
        return reply.code(400).page('error', {
          title: request.t('admin.notAllowedTitle'),
          heading: request.t('admin.cannotDisableSelf'),
          message: request.t('admin.askAnother'),
          link: back,
        })
      }
      await setAccountDisabled(app.db, actorOf(request, 'admin'), userId, disabled)
      return reply.redirect(`/admin/users?done=${disabled ? 'disabled' : 'enabled'}`, 303)
    }
    scope.post('/admin/users/:userId/disable', { preHandler: app.csrfProtection }, async (request, reply) =>
      setDisabled(request, reply, true),
    )
    scope.post('/admin/users/:userId/enable', { preHandler: app.csrfProtection }, async (request, reply) =>
      setDisabled(request, reply, false),
    )

    // Administrators' API tokens: every live one, and revoking one at once (plusid admin token
    // list/revoke does the same from the command line).
    scope.get('/admin/tokens', async (request, reply) => {
      const tokens = await listAdminTokens(app.db, null, new Date())
      const notice = (request.query as Record<string, unknown>).done === 'revoked' ? request.t('admin.tokenRevoked') : null
      return reply.page('admin-tokens', { title: request.t('admin.apiTokens'), tokens, notice })
    })
    scope.post('/admin/tokens/:tokenId/revoke', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { tokenId } = request.params as { tokenId: string }
      const revoked =
        z.string().uuid().safeParse(tokenId).success &&
        (await app.db.transaction().execute(async (trx) => {
          const owner = await revokeAdminToken(trx, tokenId, new Date())
          if (owner)
            await appendAudit(trx, {
              actorId: request.adminUser!.id,
              actorKind: 'admin',
              ip: request.ip,
              action: 'admin_token.revoked',
              objectType: 'admin_token',
              objectId: tokenId,
              details: { owner },
            })
          return owner !== undefined
        }))
      if (!revoked) {
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

    scope.get('/admin/audit', async (request, reply) => {
      const parsed = AuditQuery.safeParse(emptyToUndefined(request.query as Record<string, unknown>))
      if (!parsed.success)
        return reply.code(400).page('error', {
          title: request.t('admin.badFilterTitle'),
          heading: request.t('admin.badFilterHeading'),
          message: `${String(parsed.error.issues[0]!.path[0])} ${messageText(request.t.bind(request), issueMessage(parsed.error.issues[0]!))}`,
        })
      const q = parsed.data
      const filter: AuditFilter = { action: q.action, actorId: q.actor, objectId: q.object }
      const { items, next } = await listAudit(app.db, filter, { before: q.before ?? q.cursor, limit: q.limit })
      const params = new URLSearchParams(
        Object.entries({ action: q.action, actor: q.actor, object: q.object }).filter((e): e is [string, string] => e[1] !== undefined),
      )
      return reply.page('admin-audit', {
        title: request.t('admin.audit'),
        filter,
        entries: items,
        next,
        nextUrl: `/admin/audit?${new URLSearchParams([...params, ['before', next ?? '']])}`,
        exportUrl: `/admin/audit.jsonl?${params}`,
      })
    })

    // The whole (filtered) log as JSON lines, newest first, read page by page.
    scope.get('/admin/audit.jsonl', async (request, reply) => {
      const parsed = AuditQuery.safeParse(emptyToUndefined(request.query as Record<string, unknown>))
      if (!parsed.success)
        return reply.code(400).send({
          error: 'invalid_request',
          message: `${String(parsed.error.issues[0]!.path[0])} ${englishIssue(parsed.error.issues[0]!)}`,
        })
      const filter: AuditFilter = { action: parsed.data.action, actorId: parsed.data.actor, objectId: parsed.data.object }
      const lines: string[] = []
      let before: string | undefined
      do {
        const page = await listAudit(app.db, filter, { before, limit: 1000 })
        for (const entry of page.items) lines.push(JSON.stringify(auditJson(entry)))
        before = page.next ?? undefined
      } while (before && lines.length < 1_000_000)
      return reply
        .header('cache-control', 'no-store')
        .header('content-disposition', 'attachment; filename="plusid-audit.jsonl"')
        .type('application/x-ndjson; charset=utf-8')
        .send(lines.join('\n') + (lines.length ? '\n' : ''))
    })
  })

  // ---------- JSON API: an administrator's API token, or session (JSON bodies only) ----------
  app.register(
    async (scope) => {
      jsonBodies(scope)
      const apiError = (reply: FastifyReply, status: number, error: string, message: string) =>
        reply.code(status).header('cache-control', 'no-store').send({ error, message })
      scope.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
        if (isUnavailable(error)) {
          request.log.warn({ err: error }, 'admin API request refused: a store is unreachable')
          return apiError(
            reply.header('retry-after', String(RETRY_AFTER_SECONDS)),
            503,
            'temporarily_unavailable',
            'the service is temporarily unavailable: try again shortly',
          )
        }
        const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500
        if (status === 500) request.log.error({ err: error }, 'admin API request failed')
        return apiError(
          reply,
          status,
          status === 500 ? 'server_error' : 'invalid_request',
          status === 500 ? 'the server could not complete the request' : error.message,
        )
      })
      scope.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'not_found', 'no such endpoint'))
      scope.addHook('preHandler', async (request, reply) => {
        const authorization = request.headers.authorization
        let admin: User | undefined
        let kind: 'api' | 'admin' = 'api'
        if (authorization && /^bearer /i.test(authorization)) {
          // Every use is audited (the route's pattern, never the token).
          admin = await useAdminToken(
            app.db,
            authorization.slice(7).trim(),
            { method: request.method, route: request.routeOptions.url ?? request.url.split('?')[0]!, ip: request.ip },
            new Date(),
          )
          if (!admin) {
            return apiError(
              reply.header('www-authenticate', 'Bearer realm="plusid-admin", error="invalid_token"'),
              401,
              'invalid_token',
              'the API token is unknown, expired, revoked, or not an enabled administrator\u2019s',
            )
          }
        } else {
          await app.loadSession(request, reply)
          if (!request.auth)
            return apiError(
              reply.header('www-authenticate', 'Bearer realm="plusid-admin"'),
              401,
              'unauthorized',
              'an administrator API token or session is required',
            )
          // A session's cookie would ride along with a cross-site form: only JSON bodies are accepted (forms cannot send them without CORS).
          if (request.method !== 'GET' && !request.headers['content-type']?.startsWith('application/json')) {
            return apiError(reply, 415, 'invalid_request', 'send a JSON body (Content-Type: application/json)')
          }
          admin = request.auth.user
          kind = 'admin'
        }
        if (!admin.isAdmin) return apiError(reply, 403, 'forbidden', 'administrators only')
        request.adminUser = admin
        request.adminActorKind = kind
      })

      const run = async (reply: FastifyReply, action: () => Promise<unknown>) => {
        try {
          const result = await action()
          return reply.header('cache-control', 'no-store').send(result ?? { ok: true })
        } catch (error) {
          if (!(error instanceof ReviewError)) throw error
          return apiError(reply, REVIEW_STATUS[error.kind], error.kind, error.message)
        }
      }
      const apiActor = (request: FastifyRequest): Actor => ({
        userId: request.adminUser!.id,
        kind: request.adminActorKind ?? 'api',
        ip: request.ip,
      })
      const body = (request: FastifyRequest) =>
        typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {}

      scope.get('/applications', async (request, reply) => {
        const query = request.query as Record<string, unknown>
        const state = (query.state ?? 'applied') as ApplicationState
        if (!['applied', 'approved', 'rejected', 'suspended'].includes(state))
          return apiError(reply, 400, 'invalid_request', 'state must be applied, approved, rejected or suspended')
        const limit = Math.min(Math.max(Number(query.limit ?? PAGE) || PAGE, 1), 500)
        const items = await listApplications(app.db, state, { after: decodeAfter(query.cursor), limit })
        const last = items[items.length - 1]
        return reply.header('cache-control', 'no-store').send({
          items: items.map(applicationJson),
          next: items.length === limit && last ? encodeCursor({ createdAt: last.createdAt, id: last.id }) : null,
        })
      })
      scope.get('/applications/:id', async (request, reply) => {
        const application = await findApplication(app.db, (request.params as { id: string }).id)
        return application ? reply.send(applicationJson(application)) : apiError(reply, 404, 'not_found', 'no such application')
      })
      scope.post('/applications/:id/approve', async (request, reply) =>
        run(reply, () => reviewApplication(app.db, apiActor(request), (request.params as { id: string }).id, { approve: true })),
      )
      scope.post('/applications/:id/reject', async (request, reply) => {
        const reason = Reason.safeParse(body(request).reason)
        if (!reason.success) return apiError(reply, 400, 'invalid_request', `reason ${englishIssue(reason.error.issues[0]!)}`)
        return run(reply, () =>
          reviewApplication(app.db, apiActor(request), (request.params as { id: string }).id, { approve: false, reason: reason.data }),
        )
      })
      scope.post('/channels/:channelId/permissions/:item/suspend', async (request, reply) => {
        const { channelId, item } = request.params as { channelId: string; item: string }
        const reason = body(request).reason
        return run(reply, () =>
          suspendPermission(app.db, apiActor(request), channelId, item, typeof reason === 'string' && reason.trim() ? reason.trim() : null),
        )
      })
      scope.post('/channels/:channelId/suspend', async (request, reply) => {
        const reason = Reason.safeParse(body(request).reason)
        if (!reason.success) return apiError(reply, 400, 'invalid_request', `reason ${englishIssue(reason.error.issues[0]!)}`)
        return run(reply, () =>
          suspendChannel(app.db, apiActor(request), (request.params as { channelId: string }).channelId, { reason: reason.data }),
        )
      })
      scope.post('/channels/:channelId/unsuspend', async (request, reply) =>
        run(reply, () => suspendChannel(app.db, apiActor(request), (request.params as { channelId: string }).channelId, null)),
      )
      scope.get('/changes', async (_request, reply) => {
        const changes = await listPendingChanges(app.db, 500)
        return reply.header('cache-control', 'no-store').send({
          items: changes.map((c) => ({
            id: c.id,
            channel_id: c.channelId,
            channel_name: c.channelName,
            provider: c.providerName,
            field: c.field,
            old: c.oldValue,
            new: c.newValue,
            actor: c.actorId,
            at: c.createdAt.toISOString(),
          })),
        })
      })
      scope.post('/changes/:id/reviewed', async (request, reply) => {
        const done = await reviewChange(
          app.db,
          { ...apiActor(request), userId: request.adminUser!.id },
          (request.params as { id: string }).id,
        )
        return done
          ? reply.header('cache-control', 'no-store').send({ reviewed: true })
          : apiError(reply, 404, 'not_found', 'no such pending change')
      })
      scope.get('/audit', async (request, reply) => {
        const parsed = AuditQuery.safeParse(emptyToUndefined(request.query as Record<string, unknown>))
        if (!parsed.success)
          return apiError(
            reply,
            400,
            'invalid_request',
            `${String(parsed.error.issues[0]!.path[0])} ${englishIssue(parsed.error.issues[0]!)}`,
          )
        const q = parsed.data
        const { items, next } = await listAudit(
          app.db,
          { action: q.action, actorId: q.actor, objectId: q.object },
          { before: q.cursor ?? q.before, limit: q.limit },
        )
        return reply.header('cache-control', 'no-store').send({ items: items.map(auditJson), next })
      })
      scope.get('/users', async (request, reply) => {
        const query = request.query as Record<string, unknown>
        const q = typeof query.q === 'string' ? query.q.trim() : ''
        const users = await searchUsers(app.db, q, { after: decodeUserCursor(query.cursor), limit: PAGE })
        const last = users[users.length - 1]
        return reply.send({
          items: users.map((u) => ({
            id: u.id,
            email: u.email,
            name: u.displayName,
            is_admin: u.isAdmin,
            disabled: u.disabledAt !== null,
            created_at: u.createdAt.toISOString(),
          })),
          next: !q && users.length === PAGE && last ? userCursor(last) : null,
        })
      })
      scope.get('/channels', async (request, reply) => {
        const query = request.query as Record<string, unknown>
        const q = typeof query.q === 'string' ? query.q.trim() : ''
        const channels = await searchChannels(app.db, q, { after: decodeChannelCursor(query.cursor), limit: PAGE })
        const last = channels[channels.length - 1]
        return reply.send({
          items: channels.map((c) => ({
            id: c.id,
            name: c.name,
            provider: c.provider_name,
            kind: c.kind,
            status: c.status,
            suspended: c.suspended_at !== null,
          })),
          next: channels.length === PAGE && last ? channelCursor(q, last) : null,
        })
      })
    },
    { prefix: '/admin/api' },
  )
}

declare module 'fastify' {
  interface FastifyRequest {
    adminUser?: User
    adminActorKind?: 'api' | 'admin'
  }
}

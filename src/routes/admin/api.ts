// The administrators' JSON API under /admin/api/: an administrator's API token, or session (JSON
// bodies only, so a cross-site form cannot ride on the cookie).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { englishIssue } from '../../i18n/index.ts'
import { jsonBodies } from '../../plugins/security.ts'
import { reviewChange } from '../../console/changes.ts'
import { Reason, reviewApplication, ReviewError, suspendChannel, suspendPermission, type Actor } from '../../console/review.ts'
import { auditJson, searchAudit } from '../../admin/audit.ts'
import { searchChannelsPage } from '../../admin/channels.ts'
import {
  APPLICATION_STATES,
  applicationById,
  applicationsPage,
  pendingChanges,
  type Application,
  type ApplicationState,
} from '../../admin/queue.ts'
import { administratorOfToken } from '../../admin/tokens.ts'
import { searchUsersPage, type User } from '../../admin/users.ts'
import { AuditQuery, emptyToUndefined, filterOf, optionalReason, PAGE, REVIEW_STATUS } from './queries.ts'

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

const apiError = (reply: FastifyReply, status: number, error: string, message: string) =>
  reply.code(status).header('cache-control', 'no-store').send({ error, message })

/** The one classifier of unreachable stores, handed down by app.ts (routes do not import storage). */
export interface AdminApiOptions {
  isUnavailable: (error: unknown) => boolean
  retryAfterSeconds: number
}

export default async function adminApi(app: FastifyInstance, { isUnavailable, retryAfterSeconds }: AdminApiOptions) {
  jsonBodies(app)
  app.setErrorHandler((error: Error & { statusCode?: number }, request, reply) => {
    if (isUnavailable(error)) {
      request.log.warn({ err: error }, 'admin API request refused: a store is unreachable')
      return apiError(
        reply.header('retry-after', String(retryAfterSeconds)),
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
  app.setNotFoundHandler((_request, reply) => apiError(reply, 404, 'not_found', 'no such endpoint'))
  app.addHook('preHandler', async (request, reply) => {
    const authorization = request.headers.authorization
    let admin: User | undefined
    let kind: 'api' | 'admin' = 'api'
    if (authorization && /^bearer /i.test(authorization)) {
      // Every use is audited (the route's pattern, never the token).
      admin = await administratorOfToken(app.db, authorization.slice(7).trim(), {
        method: request.method,
        route: request.routeOptions.url ?? request.url.split('?')[0]!,
        ip: request.ip,
      })
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
  const actorOf = (request: FastifyRequest): Actor & { userId: string } => ({
    userId: request.adminUser!.id,
    kind: request.adminActorKind ?? 'api',
    ip: request.ip,
  })
  const body = (request: FastifyRequest) =>
    typeof request.body === 'object' && request.body !== null ? (request.body as Record<string, unknown>) : {}
  const params = (request: FastifyRequest) => request.params as Record<string, string>
  const query = (request: FastifyRequest) => request.query as Record<string, unknown>
  const badReason = (reply: FastifyReply, error: import('zod').ZodError) =>
    apiError(reply, 400, 'invalid_request', `reason ${englishIssue(error.issues[0]!)}`)

  app.get('/applications', async (request, reply) => {
    const state = (query(request).state ?? 'applied') as ApplicationState
    if (!APPLICATION_STATES.includes(state))
      return apiError(reply, 400, 'invalid_request', 'state must be applied, approved, rejected or suspended')
    const limit = Math.min(Math.max(Number(query(request).limit ?? PAGE) || PAGE, 1), 500)
    const { items, next } = await applicationsPage(app.db, state, query(request).cursor, limit)
    return reply.header('cache-control', 'no-store').send({ items: items.map(applicationJson), next })
  })
  app.get('/applications/:id', async (request, reply) => {
    const application = await applicationById(app.db, params(request).id!)
    return application ? reply.send(applicationJson(application)) : apiError(reply, 404, 'not_found', 'no such application')
  })
  app.post('/applications/:id/approve', async (request, reply) =>
    run(reply, () => reviewApplication(app.db, actorOf(request), params(request).id!, { approve: true })),
  )
  app.post('/applications/:id/reject', async (request, reply) => {
    const reason = Reason.safeParse(body(request).reason)
    if (!reason.success) return badReason(reply, reason.error)
    return run(reply, () => reviewApplication(app.db, actorOf(request), params(request).id!, { approve: false, reason: reason.data }))
  })
  app.post('/channels/:channelId/permissions/:item/suspend', async (request, reply) => {
    const { channelId, item } = params(request)
    return run(reply, () => suspendPermission(app.db, actorOf(request), channelId!, item!, optionalReason(body(request).reason)))
  })
  app.post('/channels/:channelId/suspend', async (request, reply) => {
    const reason = Reason.safeParse(body(request).reason)
    if (!reason.success) return badReason(reply, reason.error)
    return run(reply, () => suspendChannel(app.db, actorOf(request), params(request).channelId!, { reason: reason.data }))
  })
  app.post('/channels/:channelId/unsuspend', async (request, reply) =>
    run(reply, () => suspendChannel(app.db, actorOf(request), params(request).channelId!, null)),
  )
  app.get('/changes', async (_request, reply) => {
    const changes = await pendingChanges(app.db, 500)
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
  app.post('/changes/:id/reviewed', async (request, reply) =>
    (await reviewChange(app.db, actorOf(request), params(request).id!))
      ? reply.header('cache-control', 'no-store').send({ reviewed: true })
      : apiError(reply, 404, 'not_found', 'no such pending change'),
  )
  app.get('/audit', async (request, reply) => {
    const parsed = AuditQuery.safeParse(emptyToUndefined(request.query))
    if (!parsed.success)
      return apiError(reply, 400, 'invalid_request', `${String(parsed.error.issues[0]!.path[0])} ${englishIssue(parsed.error.issues[0]!)}`)
    const q = parsed.data
    const { items, next } = await searchAudit(app.db, filterOf(q), { before: q.cursor ?? q.before, limit: q.limit })
    return reply.header('cache-control', 'no-store').send({ items: items.map(auditJson), next })
  })
  app.get('/users', async (request, reply) => {
    const q = typeof query(request).q === 'string' ? (query(request).q as string).trim() : ''
    const { users, next } = await searchUsersPage(app.db, q, query(request).cursor, PAGE)
    return reply.send({
      items: users.map((u) => ({
        id: u.id,
        email: u.email,
        name: u.displayName,
        is_admin: u.isAdmin,
        disabled: u.disabledAt !== null,
        created_at: u.createdAt.toISOString(),
      })),
      next,
    })
  })
  app.get('/channels', async (request, reply) => {
    const q = typeof query(request).q === 'string' ? (query(request).q as string).trim() : ''
    const { channels, next } = await searchChannelsPage(app.db, q, query(request).cursor, PAGE)
    return reply.send({
      items: channels.map((c) => ({
        id: c.id,
        name: c.name,
        provider: c.providerName,
        kind: c.kind,
        status: c.status,
        suspended: c.suspendedAt !== null,
      })),
      next,
    })
  })
}

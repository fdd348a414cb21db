// Registration, login and logout pages.
import { z } from 'zod'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Limit, RateLimitStore } from '../security/rate-limits.ts'
import type { Config } from '../config.ts'
import { authenticateForAudit, registerAccount } from '../auth/accounts.ts'
import { appendAudit } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import type { User } from '../storage/users.ts'
import { endSession, startSession } from '../auth/session.ts'
import { newPassword, withinPasswordLimit } from '../auth/password-policy.ts'
import * as rules from '../profile/rules.ts'
import { fieldErrors, formBody, textOf } from '../http/forms.ts'
import { safeNextPath } from '../plugins/session.ts'
import type { MessageKey } from '../i18n/index.ts'

const RegistrationForm = z.object({ email: rules.email, password: newPassword, name: rules.displayName })

// Login checks no format: any string is looked up, and a mismatch gets the one generic answer.
const LoginForm = z.object({
  email: z.string().max(320),
  password: z.string().refine(withinPasswordLimit),
  next: z.string().optional(),
})

/** One message for an unknown email and a wrong password: it must not tell which one it was. */
export const LOGIN_FAILED = 'login.failed' satisfies MessageKey

export default async function accountRoutes(app: FastifyInstance, { config }: { config: Config }) {
  const clock = () => ({ now: new Date(), ttlSeconds: config.sessionTtlSeconds, maxAgeSeconds: config.sessionMaxAgeSeconds })
  const requestDetails = (request: { ip: string; headers: Record<string, unknown> }) => ({
    ip: request.ip,
    userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null,
  })

  app.get('/', { preHandler: app.loadSession }, async (request, reply) => reply.redirect(request.auth ? '/account' : '/login', 303))

  const loginUrl = (next: string | undefined) => (next ? `/login?next=${encodeURIComponent(next)}` : '/login')

  app.get('/register', { preHandler: app.loadSession }, async (request, reply) => {
    const next = safeNextPath((request.query as Record<string, unknown>).next)
    return reply.page('register', { title: request.t('register.title'), values: {}, errors: {}, next, loginUrl: loginUrl(next) })
  })

  app.post('/register', { preHandler: [app.csrfProtection, app.loadSession] }, async (request, reply) => {
    if (await tooManyFromIp(app.rateLimits, request, reply, app.limits.registerPerIp)) return reply
    const body = formBody(request.body)
    const next = safeNextPath(body.next)
    const values = { email: textOf(body, 'email'), name: textOf(body, 'name') }
    const parsed = RegistrationForm.safeParse(body)
    if (!parsed.success) {
      return reply.code(400).page('register', {
        title: request.t('register.title'),
        values,
        errors: fieldErrors(parsed.error, request.t.bind(request)),
        next,
        loginUrl: loginUrl(next),
      })
    }
    const { email, password, name } = parsed.data
    const registration = await app.db.transaction().execute(async (trx) => {
      const result = await registerAccount(trx, { email, password, displayName: name })
      if (result.ok)
        await appendAudit(trx, {
          actorId: result.user.id,
          actorKind: 'user',
          action: 'account.registered',
          objectType: 'user',
          objectId: result.user.id,
          ip: request.ip,
        })
      return result
    })
    if (!registration.ok) {
      return reply.code(409).page('register', {
        title: request.t('register.title'),
        values,
        errors: { email: request.t('error.emailTaken') },
        next,
        loginUrl: loginUrl(next),
      })
    }
    await endSession(app.db, request.auth?.token)
    const session = await startSession(app.db, registration.user.id, requestDetails(request), clock())
    if (!session) throw new Error('a new account cannot be disabled yet')
    request.log.info({ userId: registration.user.id }, 'account registered')
    return reply.setSessionCookie(session.token, session.expiresAt).redirect(next ?? '/account', 303)
  })

  app.get('/login', { preHandler: app.loadSession }, async (request, reply) => {
    const next = safeNextPath((request.query as Record<string, unknown>).next)
    if (request.auth && next === undefined) return reply.redirect('/account', 303)
    return reply.page('login', {
      title: request.t('login.title'),
      next,
      email: '',
      registerUrl: next ? `/register?next=${encodeURIComponent(next)}` : '/register',
    })
  })

  app.post('/login', { preHandler: [app.csrfProtection, app.loadSession] }, async (request, reply) => {
    if (await tooManyFromIp(app.rateLimits, request, reply, app.limits.loginPerIp)) return reply
    const body = formBody(request.body)
    const parsed = LoginForm.safeParse(body)
    const next = safeNextPath(body.next)
    const { user, targetedUserId } = parsed.success
      ? await authenticateForAudit(app.db, app.rateLimits, parsed.data.email.trim(), parsed.data.password)
      : { user: null, targetedUserId: null }
    await auditLogin(app.db, request.ip, user, targetedUserId)
    if (!user) {
      request.log.info('login failed')
      return reply
        .code(401)
        .page('login', { title: request.t('login.title'), next, email: textOf(body, 'email'), error: request.t(LOGIN_FAILED) })
    }
    // A new session id at every login: a session id planted before login is worth nothing after.
    await endSession(app.db, request.auth?.token)
    const session = await startSession(app.db, user.id, requestDetails(request), clock())
    // Disabled between the password check and now: the same failure as a wrong password.
    if (!session)
      return reply
        .code(401)
        .page('login', { title: request.t('login.title'), next, email: textOf(body, 'email'), error: request.t(LOGIN_FAILED) })
    request.log.info({ userId: user.id }, 'login succeeded')
    return reply.setSessionCookie(session.token, session.expiresAt).redirect(next ?? '/account', 303)
  })

  app.get('/logout', { preHandler: app.loadSession }, async (request, reply) => {
    if (!request.auth) return reply.redirect('/login', 303)
    return reply.page('logout', { title: request.t('logout.title') })
  })

  app.post('/logout', { preHandler: [app.csrfProtection, app.loadSession] }, async (request, reply) => {
    await endSession(app.db, request.auth?.token)
    request.auth = null
    return reply.clearSessionCookie().redirect('/login', 303)
  })
}

/**
 * Counts a form post against a per-IP limit; over it, answers 429 with Retry-After and a page
 * saying when to try again, and returns true. A store that cannot count throws: the post is
 * refused with 503 rather than let through uncounted (fail closed).
 */
export async function tooManyFromIp(
  counters: RateLimitStore,
  request: FastifyRequest,
  reply: FastifyReply,
  limit: Limit,
): Promise<boolean> {
  const { retryAfter } = await counters.hit(limit, request.ip, new Date())
  if (retryAfter === null) return false
  request.log.warn({ limit: limit.name }, 'rate limit exceeded')
  reply
    .code(429)
    .header('retry-after', String(retryAfter))
    .page('error', {
      title: request.t('rateLimit.title'),
      heading: request.t('rateLimit.title'),
      message: request.t('rateLimit.message', { seconds: retryAfter }),
    })
  return true
}

/** Every login attempt is audited: who (the account, when known), from where; never the email typed. */
export async function auditLogin(db: Executor, ip: string, user: User | null, targetedUserId: string | null): Promise<void> {
  await appendAudit(db, {
    actorId: user?.id ?? null,
    actorKind: user ? 'user' : 'anonymous',
    action: user ? 'login.succeeded' : 'login.failed',
    objectType: targetedUserId ? 'user' : null,
    objectId: targetedUserId,
    ip,
  })
}

// Registration, login and logout pages. The work is in the use cases of src/accounts/.
import type { FastifyInstance } from 'fastify'
import { accountsContext, originOf } from '../accounts/context.ts'
import { Credentials, LOGIN_FAILED, logIn } from '../accounts/login.ts'
import { logOut } from '../accounts/logout.ts'
import { RegistrationForm, register } from '../accounts/register.ts'
import type { Config } from '../config.ts'
import { fieldErrors, formBody, textOf } from '../http/forms.ts'
import { tooManyFromIp } from '../http/too-many.ts'
import { safeNextPath } from '../plugins/session.ts'

// Kept here for the files that import them from this page (tests, routes/authorize.ts).
export { LOGIN_FAILED, tooManyFromIp }

export default async function accountRoutes(app: FastifyInstance, { config }: { config: Config }) {
  const accounts = accountsContext(app, config)

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
    const again = (status: number, errors: Record<string, string>) =>
      reply.code(status).page('register', {
        title: request.t('register.title'),
        values: { email: textOf(body, 'email'), name: textOf(body, 'name') },
        errors,
        next,
        loginUrl: loginUrl(next),
      })
    const parsed = RegistrationForm.safeParse(body)
    if (!parsed.success) return again(400, fieldErrors(parsed.error, request.t.bind(request)))
    const registration = await register(accounts, originOf(request), parsed.data, request.auth?.token)
    if (!registration.ok) return again(409, { email: request.t('error.emailTaken') })
    request.log.info({ userId: registration.user.id }, 'account registered')
    return reply.setSessionCookie(registration.session.token, registration.session.expiresAt).redirect(next ?? '/account', 303)
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
    const next = safeNextPath(body.next)
    const parsed = Credentials.safeParse(body)
    const login = await logIn(accounts, originOf(request), parsed.success ? parsed.data : null, request.auth?.token)
    if (!login.ok) {
      request.log.info('login failed')
      return reply
        .code(401)
        .page('login', { title: request.t('login.title'), next, email: textOf(body, 'email'), error: request.t(LOGIN_FAILED) })
    }
    request.log.info({ userId: login.user.id }, 'login succeeded')
    return reply.setSessionCookie(login.session.token, login.session.expiresAt).redirect(next ?? '/account', 303)
  })

  app.get('/logout', { preHandler: app.loadSession }, async (request, reply) => {
    if (!request.auth) return reply.redirect('/login', 303)
    return reply.page('logout', { title: request.t('logout.title') })
  })

  app.post('/logout', { preHandler: [app.csrfProtection, app.loadSession] }, async (request, reply) => {
    await logOut(accounts, request.auth?.token)
    request.auth = null
    return reply.clearSessionCookie().redirect('/login', 303)
  })
}

// The developer console: providers, members, channels, secrets, testers, publication and
// permission applications. Every page needs a login; a provider's pages need membership (else 404:
// another provider's existence does not leak); owners alone add members, publish, and see or
// reissue secrets. Each handler parses, calls one use case under src/console and renders.
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import { fieldErrors, formBody } from '../../http/forms.ts'
import { invite } from '../../console/invitations.ts'
import { membershipOf, myProviders } from '../../console/access.ts'
import { createProvider } from '../../console/providers.ts'
import { trustedName } from '../../console/names.ts'
import { createConsoleChannel } from '../../console/channels.ts'
import { CHANNEL_FORM_FIELDS, parseChannelForm } from './channel-form.ts'
import { forbidden, invitedNotice, notFound, providerPage, textValues } from './pages.ts'
import channelRoutes from './channels.ts'

// Names are shown to users on the consent page as the party asking: console/names.ts.
const ProviderForm = z.object({ name: trustedName(100) })
const MemberForm = z.object({
  email: z.string().trim().min(1, 'error.required'),
  role: z.enum(['owner', 'developer'], { message: 'error.role' }).default('developer'),
})

export default async function consoleRoutes(app: FastifyInstance, { masterKey }: { masterKey: Buffer }) {
  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)
    const actorOf = (request: { auth?: { user: { id: string } } | null; ip: string }) => ({ userId: request.auth!.user.id, ip: request.ip })

    scope.get('/console', async (request, reply) =>
      reply.page('console', {
        title: request.t('console.title'),
        providers: await myProviders(app.db, request.auth!.user.id),
        values: {},
        errors: {},
      }),
    )

    scope.post('/console/providers', { preHandler: app.csrfProtection }, async (request, reply) => {
      const body = formBody(request.body)
      const parsed = ProviderForm.safeParse(body)
      const rerender = async (errors: Record<string, string>) =>
        reply.code(400).page('console', {
          title: request.t('console.title'),
          providers: await myProviders(app.db, request.auth!.user.id),
          values: textValues(body, ['name']),
          errors,
        })
      if (!parsed.success) return rerender(fieldErrors(parsed.error, request.t.bind(request)))
      const providerId = await createProvider(app.db, actorOf(request), parsed.data.name)
      if (!providerId) return rerender({ name: request.t('error.providerTaken') })
      return reply.redirect(`/console/providers/${providerId}`, 303)
    })

    scope.get('/console/providers/:providerId', async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await membershipOf(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      return providerPage(reply, membership, invitedNotice(request, 'console.memberInvited'))
    })

    // An invitation, never a direct add, and the same answer whether the account exists or not.
    scope.post('/console/providers/:providerId/members', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await membershipOf(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      if (membership.role !== 'owner') return forbidden(reply, 'console.onlyOwnersMembers')
      const body = formBody(request.body)
      const parsed = MemberForm.safeParse(body)
      if (!parsed.success)
        return providerPage(reply.code(400), membership, {
          memberValues: textValues(body, ['email']),
          memberErrors: fieldErrors(parsed.error, request.t.bind(request)),
        })
      await invite(app.db, actorOf(request), parsed.data.email, { kind: 'member', providerId, role: parsed.data.role })
      return reply.redirect(`/console/providers/${providerId}?invited=1`, 303)
    })

    scope.post('/console/providers/:providerId/channels', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await membershipOf(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      const body = formBody(request.body)
      const parsed = parseChannelForm(body, request.t.bind(request))
      if (!parsed.ok)
        return providerPage(reply.code(400), membership, {
          channelValues: textValues(body, CHANNEL_FORM_FIELDS),
          channelErrors: parsed.errors,
        })
      const created = await createConsoleChannel(app.db, masterKey, actorOf(request), membership, parsed.settings)
      if (created.revealId) return reply.redirect(`/console/channels/${created.channelId}/secret/${created.revealId}`, 303)
      return reply.redirect(`/console/channels/${created.channelId}${created.hasSecret ? '?secret=owner' : ''}`, 303)
    })

    await scope.register(channelRoutes, { masterKey })
  })
}

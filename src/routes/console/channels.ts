// A channel's console pages: settings, secret (reissue and its one reveal), publication, testers
// and permission applications. The channel's provider's members alone see them (else 404).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { fieldErrors, formBody, textOf } from '../../http/forms.ts'
import { channelForMember } from '../../console/access.ts'
import { publishChannel, updateSettings } from '../../console/channels.ts'
import { invite } from '../../console/invitations.ts'
import { applyForPermissions, ApplicationsInput, ReviewError } from '../../console/review.ts'
import { reissueSecret, revealSecret } from '../../console/secrets.ts'
import { CHANNEL_FORM_FIELDS, parseChannelForm } from './channel-form.ts'
import { channelPage, forbidden, invitedNotice, notFound, textValues } from './pages.ts'

export default async function channelRoutes(app: FastifyInstance, { masterKey }: { masterKey: Buffer }) {
  const actorOf = (request: FastifyRequest) => ({ userId: request.auth!.user.id, ip: request.ip })

  /** The channel of the URL and the user's role in its provider; a non-member gets the 404 page. */
  const channelFor = async (request: FastifyRequest, reply: FastifyReply) => {
    const found = await channelForMember(app.db, (request.params as { channelId: string }).channelId, request.auth!.user.id)
    if (!found) notFound(reply)
    return found ?? undefined
  }

  /** The owner of a channel with a secret, or the page that refuses. */
  const ownerOfSecretChannel = async (request: FastifyRequest, reply: FastifyReply) => {
    const found = await channelFor(request, reply)
    if (!found) return undefined
    if (found.role !== 'owner') {
      forbidden(reply, 'console.onlyOwnersSecret')
      return undefined
    }
    if (found.channel.isPublic) {
      reply.code(400).page('error', {
        title: request.t('console.noSecretTitle'),
        heading: request.t('console.noSecretHeading'),
        message: request.t('console.noSecretMessage'),
      })
      return undefined
    }
    return found
  }

  app.get('/console/channels/:channelId', async (request, reply) => {
    const found = await channelFor(request, reply)
    if (!found) return reply
    // After a developer created a web channel: its secret exists, and only an owner can see it.
    const notice =
      (request.query as Record<string, unknown>).secret === 'owner' && !found.channel.isPublic
        ? request.t('console.secretForOwners')
        : undefined
    return channelPage(reply, found, { ...invitedNotice(request, 'console.testerInvited'), ...(notice ? { notice } : {}) })
  })

  app.post('/console/channels/:channelId', { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await channelFor(request, reply)
    if (!found) return reply
    const { channel } = found
    const body = formBody(request.body)
    const parsed = parseChannelForm({ ...body, kind: channel.kind }, request.t.bind(request))
    // HS256 signs with the secret, which plusid keeps (sealed) only for channels already on
    // HS256. Switching to it needs a new secret, and a secret is shown to owners alone: saving
    // settings never issues one. The form asks for the owner's confirmed reissue instead.
    const needsReissue = parsed.ok && parsed.settings.idTokenAlg === 'HS256' && !channel.secretEncrypted
    if (!parsed.ok || needsReissue) {
      const settingsErrors = parsed.ok ? {} : { ...parsed.errors }
      if (needsReissue)
        settingsErrors.id_token_alg = request.t(found.role === 'owner' ? 'console.hs256ReissueOwner' : 'console.hs256ReissueDeveloper')
      const reissueHref = needsReissue && found.role === 'owner' ? `/console/channels/${channel.id}/secret?alg=HS256` : undefined
      return channelPage(reply.code(400), found, { settingsValues: textValues(body, CHANNEL_FORM_FIELDS), settingsErrors, reissueHref })
    }
    await updateSettings(app.db, actorOf(request), channel, parsed.settings)
    return reply.redirect(`/console/channels/${channel.id}`, 303)
  })

  // Reissuing breaks every deployment that uses the current secret: a page asks first.
  app.get('/console/channels/:channelId/secret', async (request, reply) => {
    const found = await ownerOfSecretChannel(request, reply)
    if (!found) return reply
    const switchToHs256 = (request.query as Record<string, unknown>).alg === 'HS256' && found.channel.idTokenAlg !== 'HS256'
    return reply.page('console-secret-confirm', { title: request.t('console.reissueTitle'), channel: found.channel, switchToHs256 })
  })

  app.post('/console/channels/:channelId/secret', { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await ownerOfSecretChannel(request, reply)
    if (!found) return reply
    const switchToHs256 = formBody(request.body).id_token_alg === 'HS256'
    const revealId = await reissueSecret(app.db, masterKey, actorOf(request), found.channel, switchToHs256)
    return reply.redirect(`/console/channels/${found.channel.id}/secret/${revealId}`, 303)
  })

  // The new secret, shown once: a reload shows nothing and issues nothing.
  app.get('/console/channels/:channelId/secret/:revealId', async (request, reply) => {
    const found = await ownerOfSecretChannel(request, reply)
    if (!found) return reply
    const { revealId } = request.params as { revealId: string }
    const secret = await revealSecret(app.db, masterKey, found.channel.id, request.auth!.user.id, revealId)
    reply.header('cache-control', 'no-store')
    if (!secret)
      return reply.code(410).page('console-secret', { title: request.t('console.secretGoneTitle'), channel: found.channel, secret: null })
    return reply.page('console-secret', { title: request.t('console.secretTitle'), channel: found.channel, secret })
  })

  app.post('/console/channels/:channelId/publish', { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await channelFor(request, reply)
    if (!found) return reply
    if (found.role !== 'owner') return forbidden(reply, 'console.onlyOwnersPublish')
    await publishChannel(app.db, actorOf(request), found.channel.id)
    return reply.redirect(`/console/channels/${found.channel.id}`, 303)
  })

  app.post('/console/channels/:channelId/testers', { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await channelFor(request, reply)
    if (!found) return reply
    const email = textOf(formBody(request.body), 'email').trim()
    if (!email)
      return channelPage(reply.code(400), found, { testerValues: { email }, testerErrors: { email: request.t('error.required') } })
    await invite(app.db, actorOf(request), email, { kind: 'tester', providerId: found.channel.providerId, channelId: found.channel.id })
    return reply.redirect(`/console/channels/${found.channel.id}?invited=1`, 303)
  })

  app.post('/console/channels/:channelId/applications', { preHandler: app.csrfProtection }, async (request, reply) => {
    const found = await channelFor(request, reply)
    if (!found) return reply
    const body = formBody(request.body)
    // One checkbox per item: a single checked box arrives as a string, several as an array.
    const items = body.items === undefined ? [] : Array.isArray(body.items) ? body.items : [body.items]
    const applyValues = { ...textValues(body, ['purpose', 'policy_url']), items: items.filter((item) => typeof item === 'string') }
    const parsed = ApplicationsInput.safeParse({ items, purpose: body.purpose ?? '', policyUrl: body.policy_url ?? '' })
    if (!parsed.success) {
      const errors = fieldErrors(parsed.error, request.t.bind(request))
      const itemsError = Object.entries(errors).find(([field]) => field === 'items' || field.startsWith('items.'))?.[1]
      return channelPage(reply.code(400), found, {
        applyValues,
        applyErrors: { items: itemsError, purpose: errors.purpose, policy_url: errors.policyUrl },
      })
    }
    try {
      await applyForPermissions(app.db, { ...actorOf(request), kind: 'user' }, found.channel.id, parsed.data)
    } catch (error) {
      if (!(error instanceof ReviewError)) throw error
      return channelPage(reply.code(409), found, { applyValues, problem: request.t(error.key, error.params) })
    }
    return reply.redirect(`/console/channels/${found.channel.id}`, 303)
  })
}

// The developer console: providers, members, channels, secrets, testers, publication and
// permission applications. Every page needs a login; a provider's pages need membership (else 404:
// another provider's existence does not leak); owners alone add members, publish, and see or
// reissue secrets.
import { randomUUID } from 'node:crypto'
import { z } from 'zod'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { open, seal } from '../crypto/secret-box.ts'
import { sha256 } from '../crypto/tokens.ts'
import { fieldErrors, formBody, textOf } from '../http/forms.ts'
import { callbackUrlProblem, logoutUrlProblem } from '../oauth/callback-urls.ts'
import { createChannel, DEFAULT_ID_TOKEN_ALG, newChannelSecret } from '../oauth/channels.ts'
import { discoveryUrl } from '../oauth/discovery.ts'
import { channelSnippets } from '../console/snippets.ts'
import { DATA_ITEMS } from '../oauth/scopes.ts'
import { trustedName } from '../console/names.ts'
import { applyForPermissions, ApplicationsInput, ReviewError, type Actor } from '../console/review.ts'
import { appendAudit } from '../storage/audit.ts'
import { listChannelApplications, listRefusals } from '../storage/applications.ts'
import { findChannel, type Channel } from '../storage/channels.ts'
import { invite } from '../console/invitations.ts'
import { recordWatchedChanges } from '../console/changes.ts'
import {
  createProvider,
  findMembership,
  insertSecretReveal,
  listMembers,
  listProviderChannels,
  listTesters,
  listUserProviders,
  publishChannel,
  replaceChannelSecret,
  takeSecretReveal,
  updateChannelSettings,
  type Role,
} from '../storage/console.ts'
import type { MessageKey, Translate } from '../i18n/index.ts'
import type { Executor } from '../storage/database.ts'

const optionalHttpsUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? null : value))
  .refine((value) => value === null || callbackUrlProblem(value, 'web') === null, { message: 'error.https' })

const ChannelFields = z.object({
  name: trustedName(100),
  description: z.string().trim().max(500, 'error.tooLong').default(''),
  icon_url: optionalHttpsUrl.default(''),
  privacy_policy_url: optionalHttpsUrl.default(''),
  kind: z.enum(['web', 'spa', 'native'], { message: 'error.kind' }).default('web'),
  callback_urls: z.string().default(''),
  logout_urls: z.string().default(''),
  id_token_alg: z.enum(['ES256', 'RS256', 'HS256'], { message: 'error.idTokenAlg' }).default(DEFAULT_ID_TOKEN_ALG),
  error_style: z.enum(['rfc', 'line'], { message: 'error.errorStyle' }).default('rfc'),
})

/** A textarea's lines: trimmed, blank lines and repeats dropped. */
const lines = (value: unknown) => [
  ...new Set(
    (typeof value === 'string' ? value : '')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean),
  ),
]

/**
 * The channel form: every field checked at once (the callback URLs too, even when another field
 * is wrong), so each message appears next to its field in one round.
 */
function parseChannelForm(
  body: Record<string, unknown>,
  t: Translate,
):
  | { ok: true; form: z.output<typeof ChannelFields> & { callbackUrls: string[]; logoutUrls: string[] } }
  | { ok: false; errors: Record<string, string> } {
  const parsed = ChannelFields.safeParse(body)
  const errors: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error, t)
  const kind = body.kind === 'spa' || body.kind === 'native' ? body.kind : 'web'
  const urls = lines(body.callback_urls)
  const problems = urls.map((url) => [url, callbackUrlProblem(url, kind)] as const).filter(([, problem]) => problem)
  if (urls.length === 0) errors.callback_urls = t('error.callbackRequired')
  else if (problems.length > 0) errors.callback_urls = problems.map(([url, problem]) => `${url} ${t(problem!)}`).join('; ')
  const logoutUrls = lines(body.logout_urls)
  const logoutProblems = logoutUrls.map((url) => [url, logoutUrlProblem(url, kind)] as const).filter(([, problem]) => problem)
  if (logoutProblems.length > 0) errors.logout_urls = logoutProblems.map(([url, problem]) => `${url} ${t(problem!)}`).join('; ')
  if (body.id_token_alg === 'HS256' && kind !== 'web') errors.id_token_alg = t('error.hs256NeedsSecret')
  if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors }
  return { ok: true, form: { ...parsed.data, callbackUrls: urls, logoutUrls } }
}

const CHANNEL_FORM_FIELDS = [
  'name',
  'description',
  'icon_url',
  'privacy_policy_url',
  'kind',
  'callback_urls',
  'logout_urls',
  'id_token_alg',
  'error_style',
]

/** How long a reissued secret waits for the page that shows it. */
const SECRET_REVEAL_MS = 10 * 60 * 1000
const revealContext = (revealId: string) => `channel-secret-reveal:${revealId}`

// Names are shown to users on the consent page as the party asking: console/names.ts.
const ProviderForm = z.object({ name: trustedName(100) })
const MemberForm = z.object({
  email: z.string().trim().min(1, 'error.required'),
  role: z.enum(['owner', 'developer'], { message: 'error.role' }).default('developer'),
})

/** A permission's state as people read it (console and admin pages). */
export const STATE_LABELS: Record<string, MessageKey> = {
  approved: 'console.state.approved',
  applied: 'console.state.applied',
  rejected: 'console.state.rejected',
  suspended: 'console.state.suspended',
  'not applied': 'console.state.notApplied',
}

/** After an invitation: the one answer, whether or not the email has an account. */
const invitedNotice = (request: FastifyRequest, key: 'console.memberInvited' | 'console.testerInvited') =>
  (request.query as Record<string, unknown>).invited === '1' ? { invitedNotice: request.t(key) } : {}

const textValues = (body: Record<string, unknown>, names: string[]) => Object.fromEntries(names.map((name) => [name, textOf(body, name)]))

export default async function consoleRoutes(app: FastifyInstance, { masterKey }: { masterKey: Buffer }) {
  const actorOf = (request: FastifyRequest): Actor => ({ userId: request.auth!.user.id, kind: 'user', ip: request.ip })
  const audit = (request: FastifyRequest, action: string, objectType: string, objectId: string, details: Record<string, unknown> = {}) =>
    appendAudit(app.db, { actorId: request.auth!.user.id, actorKind: 'user', ip: request.ip, action, objectType, objectId, details })
  const tOf = (reply: FastifyReply) => reply.request.t.bind(reply.request)
  const notFound = (reply: FastifyReply) => {
    const t = tOf(reply)
    return reply.code(404).page('error', {
      title: t('errors.notFoundTitle'),
      heading: t('errors.notFoundHeading'),
      message: t('errors.notFoundMessage'),
      link: { href: '/console', label: t('console.title') },
    })
  }
  const forbidden = (reply: FastifyReply, message: MessageKey) => {
    const t = tOf(reply)
    return reply.code(403).page('error', {
      title: t('errors.forbiddenTitle'),
      heading: t('errors.forbiddenTitle'),
      message: t(message),
      link: { href: '/console', label: t('console.title') },
    })
  }

  /** The channel of the URL and the user's role in its provider; a non-member gets the 404 page. */
  const channelFor = async (
    request: FastifyRequest,
    reply: FastifyReply,
  ): Promise<{ channel: Channel; role: Role; providerName: string } | undefined> => {
    const { channelId } = request.params as { channelId: string }
    const channel = await findChannel(app.db, channelId)
    const membership = channel ? await findMembership(app.db, channel.providerId, request.auth!.user.id) : null
    if (!channel || !membership) {
      notFound(reply)
      return undefined
    }
    return { channel, role: membership.role, providerName: membership.providerName }
  }

  const issuer = app.oauth.issuer

  const channelPage = async (
    reply: FastifyReply,
    found: { channel: Channel; role: Role; providerName: string },
    extra: Record<string, unknown> = {},
  ) => {
    const { channel } = found
    const [applications, refusals, testers] = await Promise.all([
      listChannelApplications(app.db, channel.id),
      listRefusals(app.db, channel.id),
      listTesters(app.db, channel.id),
    ])
    const permissions = DATA_ITEMS.map((item) => {
      const latest = applications.find((application) => application.item === item)
      const state = channel.approvedItems.includes(item) ? 'approved' : (latest?.state ?? 'not applied')
      return { item, state, stateLabel: reply.request.t(STATE_LABELS[state] ?? 'console.state.notApplied'), reason: latest?.reason ?? null }
    })
    // What may be applied for now: neither approved nor waiting for review.
    const applicable = permissions.filter((row) => row.state !== 'approved' && row.state !== 'applied').map((row) => row.item)
    const unresolvedRefusals = refusals.filter((refusal) => !channel.approvedItems.includes(refusal.item))
    return reply.page('console-channel', {
      title: channel.name,
      channel,
      role: found.role,
      providerName: found.providerName,
      permissions,
      refusals: unresolvedRefusals,
      testers,
      items: applicable,
      issuer,
      discoveryUrl: discoveryUrl(issuer),
      snippets: channelSnippets(channel, issuer),
      applyValues: { items: [] },
      applyErrors: {},
      testerValues: {},
      testerErrors: {},
      settingsValues: {
        name: channel.name,
        description: channel.description,
        icon_url: channel.iconUrl ?? '',
        privacy_policy_url: channel.privacyPolicyUrl ?? '',
        callback_urls: channel.callbackUrls.join('\n'),
        logout_urls: channel.logoutUrls.join('\n'),
        id_token_alg: channel.idTokenAlg,
        error_style: channel.errorStyle,
      },
      settingsErrors: {},
      ...extra,
    })
  }

  const providerPage = async (
    reply: FastifyReply,
    providerId: string,
    membership: { providerName: string; role: Role },
    extra: Record<string, unknown> = {},
  ) => {
    const [members, channels] = await Promise.all([listMembers(app.db, providerId), listProviderChannels(app.db, providerId)])
    return reply.page('console-provider', {
      title: membership.providerName,
      provider: { id: providerId, name: membership.providerName },
      role: membership.role,
      members,
      channels,
      channelValues: { kind: 'web', id_token_alg: DEFAULT_ID_TOKEN_ALG, error_style: 'rfc' },
      channelErrors: {},
      memberValues: {},
      memberErrors: {},
      ...extra,
    })
  }

  const settingsOf = (form: z.output<typeof ChannelFields> & { callbackUrls: string[]; logoutUrls: string[] }) => ({
    name: form.name,
    description: form.description,
    iconUrl: form.icon_url,
    privacyPolicyUrl: form.privacy_policy_url,
    callbackUrls: form.callbackUrls,
    logoutUrls: form.logoutUrls,
    idTokenAlg: form.id_token_alg,
    errorStyle: form.error_style,
  })

  /** Keeps a new secret for the one page view that shows it; returns the reveal's id. */
  const keepForReveal = async (trx: Executor, channelId: string, userId: string, secret: string) => {
    const id = randomUUID()
    await insertSecretReveal(trx, {
      id,
      channelId,
      userId,
      sealedSecret: seal(masterKey, secret, revealContext(id)),
      expiresAt: new Date(Date.now() + SECRET_REVEAL_MS),
    })
    return id
  }

  app.register(async (scope) => {
    scope.addHook('preHandler', app.requireUser)

    scope.get('/console', async (request, reply) =>
      reply.page('console', {
        title: request.t('console.title'),
        providers: await listUserProviders(app.db, request.auth!.user.id),
        values: {},
        errors: {},
      }),
    )

    scope.post('/console/providers', { preHandler: app.csrfProtection }, async (request, reply) => {
      const body = formBody(request.body)
      const parsed = ProviderForm.safeParse(body)
      const userId = request.auth!.user.id
      const rerender = (errors: Record<string, string>) =>
        listUserProviders(app.db, userId).then((providers) =>
          reply.code(400).page('console', { title: request.t('console.title'), providers, values: textValues(body, ['name']), errors }),
        )
      if (!parsed.success) return rerender(fieldErrors(parsed.error, request.t.bind(request)))
      const providerId = await app.db.transaction().execute(async (trx) => {
        const id = await createProvider(trx, parsed.data.name, userId)
        if (id)
          await appendAudit(trx, {
            actorId: userId,
            actorKind: 'user',
            ip: request.ip,
            action: 'provider.created',
            objectType: 'provider',
            objectId: id,
          })
        return id
      })
      if (!providerId) return rerender({ name: request.t('error.providerTaken') })
      return reply.redirect(`/console/providers/${providerId}`, 303)
    })

    scope.get('/console/providers/:providerId', async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await findMembership(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      return providerPage(reply, providerId, membership, invitedNotice(request, 'console.memberInvited'))
    })

    // An invitation, never a direct add, and the same answer whether the account exists or not.
    scope.post('/console/providers/:providerId/members', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await findMembership(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      if (membership.role !== 'owner') return forbidden(reply, 'console.onlyOwnersMembers')
      const body = formBody(request.body)
      const parsed = MemberForm.safeParse(body)
      if (!parsed.success)
        return providerPage(reply.code(400), providerId, membership, {
          memberValues: textValues(body, ['email']),
          memberErrors: fieldErrors(parsed.error, request.t.bind(request)),
        })
      await invite(app.db, { userId: request.auth!.user.id, ip: request.ip }, parsed.data.email, {
        kind: 'member',
        providerId,
        role: parsed.data.role,
      })
      return reply.redirect(`/console/providers/${providerId}?invited=1`, 303)
    })

    scope.post('/console/providers/:providerId/channels', { preHandler: app.csrfProtection }, async (request, reply) => {
      const { providerId } = request.params as { providerId: string }
      const membership = await findMembership(app.db, providerId, request.auth!.user.id)
      if (!membership) return notFound(reply)
      const body = formBody(request.body)
      const parsed = parseChannelForm(body, request.t.bind(request))
      if (!parsed.ok) {
        return providerPage(reply.code(400), providerId, membership, {
          channelValues: textValues(body, CHANNEL_FORM_FIELDS),
          channelErrors: parsed.errors,
        })
      }
      const form = parsed.form
      const userId = request.auth!.user.id
      const created = await app.db.transaction().execute(async (trx) => {
        const result = await createChannel(trx, masterKey, {
          name: form.name,
          callbackUrls: form.callbackUrls,
          logoutUrls: form.logoutUrls,
          kind: form.kind,
          idTokenAlg: form.id_token_alg,
          errorStyle: form.error_style,
          providerName: membership.providerName,
          publish: false,
        })
        await updateChannelSettings(trx, result.channelId, settingsOf(form))
        await appendAudit(trx, {
          actorId: userId,
          actorKind: 'user',
          ip: request.ip,
          action: 'channel.created',
          objectType: 'channel',
          objectId: result.channelId,
        })
        // Secrets are shown to owners only: a developer's new channel waits for an owner to reissue it.
        const revealId =
          result.channelSecret && membership.role === 'owner'
            ? await keepForReveal(trx, result.channelId, userId, result.channelSecret)
            : null
        return { ...result, revealId }
      })
      if (created.revealId) return reply.redirect(`/console/channels/${created.channelId}/secret/${created.revealId}`, 303)
      return reply.redirect(`/console/channels/${created.channelId}${created.channelSecret ? '?secret=owner' : ''}`, 303)
    })

    scope.get('/console/channels/:channelId', async (request, reply) => {
      const found = await channelFor(request, reply)
      if (!found) return reply
      // After a developer created a web channel: its secret exists, and only an owner can see it.
      const notice =
        (request.query as Record<string, unknown>).secret === 'owner' && !found.channel.isPublic
          ? request.t('console.secretForOwners')
          : undefined
      return channelPage(reply, found, { ...invitedNotice(request, 'console.testerInvited'), ...(notice ? { notice } : {}) })
    })

    scope.post('/console/channels/:channelId', { preHandler: app.csrfProtection }, async (request, reply) => {
      const found = await channelFor(request, reply)
      if (!found) return reply
      const { channel } = found
      const body = formBody(request.body)
      const parsed = parseChannelForm({ ...body, kind: channel.kind }, request.t.bind(request))
      // HS256 signs with the secret, which plusid keeps (sealed) only for channels already on
      // HS256. Switching to it needs a new secret, and a secret is shown to owners alone: saving
      // settings never issues one. The form asks for the owner's confirmed reissue instead.
      const needsReissue = parsed.ok && parsed.form.id_token_alg === 'HS256' && !channel.secretEncrypted
      if (!parsed.ok || needsReissue) {
        const settingsErrors = parsed.ok ? {} : { ...parsed.errors }
        if (needsReissue)
          settingsErrors.id_token_alg = request.t(found.role === 'owner' ? 'console.hs256ReissueOwner' : 'console.hs256ReissueDeveloper')
        const reissueHref = needsReissue && found.role === 'owner' ? `/console/channels/${channel.id}/secret?alg=HS256` : undefined
        return channelPage(reply.code(400), found, { settingsValues: textValues(body, CHANNEL_FORM_FIELDS), settingsErrors, reissueHref })
      }
      const form = parsed.form
      await app.db.transaction().execute(async (trx) => {
        // Leaving HS256 drops the sealed copy: plusid no longer needs the secret itself.
        await updateChannelSettings(trx, channel.id, settingsOf(form), form.id_token_alg === 'HS256' ? undefined : null)
        // Name, icon and callback URLs changed after an approval go to the administrators' queue.
        await recordWatchedChanges(trx, { userId: request.auth!.user.id, ip: request.ip }, channel.id, channel, {
          name: form.name,
          iconUrl: form.icon_url,
          callbackUrls: form.callbackUrls,
        })
        await appendAudit(trx, {
          actorId: request.auth!.user.id,
          actorKind: 'user',
          ip: request.ip,
          action: 'channel.updated',
          objectType: 'channel',
          objectId: channel.id,
        })
      })
      return reply.redirect(`/console/channels/${channel.id}`, 303)
    })

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

    // Reissuing breaks every deployment that uses the current secret: a page asks first.
    scope.get('/console/channels/:channelId/secret', async (request, reply) => {
      const found = await ownerOfSecretChannel(request, reply)
      if (!found) return reply
      const switchToHs256 = (request.query as Record<string, unknown>).alg === 'HS256' && found.channel.idTokenAlg !== 'HS256'
      return reply.page('console-secret-confirm', { title: request.t('console.reissueTitle'), channel: found.channel, switchToHs256 })
    })

    scope.post('/console/channels/:channelId/secret', { preHandler: app.csrfProtection }, async (request, reply) => {
      const found = await ownerOfSecretChannel(request, reply)
      if (!found) return reply
      const { channel } = found
      const userId = request.auth!.user.id
      const hs256 = channel.idTokenAlg === 'HS256' || formBody(request.body).id_token_alg === 'HS256'
      const secret = newChannelSecret()
      const revealId = await app.db.transaction().execute(async (trx) => {
        await replaceChannelSecret(
          trx,
          channel.id,
          sha256(secret),
          hs256 ? seal(masterKey, secret, `channel-secret:${channel.id}`) : null,
          hs256 ? 'HS256' : undefined,
        )
        await appendAudit(trx, {
          actorId: userId,
          actorKind: 'user',
          ip: request.ip,
          action: 'channel.secret_reissued',
          objectType: 'channel',
          objectId: channel.id,
          details: hs256 && channel.idTokenAlg !== 'HS256' ? { idTokenAlg: 'HS256' } : {},
        })
        return keepForReveal(trx, channel.id, userId, secret)
      })
      return reply.redirect(`/console/channels/${channel.id}/secret/${revealId}`, 303)
    })

    // The new secret, shown once: the reveal is deleted as it is read, so a reload shows nothing
    // and issues nothing.
    scope.get('/console/channels/:channelId/secret/:revealId', async (request, reply) => {
      const found = await ownerOfSecretChannel(request, reply)
      if (!found) return reply
      const { revealId } = request.params as { revealId: string }
      const sealed = await takeSecretReveal(app.db, revealId, found.channel.id, request.auth!.user.id, new Date())
      reply.header('cache-control', 'no-store')
      if (!sealed)
        return reply.code(410).page('console-secret', { title: request.t('console.secretGoneTitle'), channel: found.channel, secret: null })
      return reply.page('console-secret', {
        title: request.t('console.secretTitle'),
        channel: found.channel,
        secret: open(masterKey, sealed, revealContext(revealId)),
      })
    })

    scope.post('/console/channels/:channelId/publish', { preHandler: app.csrfProtection }, async (request, reply) => {
      const found = await channelFor(request, reply)
      if (!found) return reply
      if (found.role !== 'owner') return forbidden(reply, 'console.onlyOwnersPublish')
      await publishChannel(app.db, found.channel.id)
      await audit(request, 'channel.published', 'channel', found.channel.id)
      return reply.redirect(`/console/channels/${found.channel.id}`, 303)
    })

    scope.post('/console/channels/:channelId/testers', { preHandler: app.csrfProtection }, async (request, reply) => {
      const found = await channelFor(request, reply)
      if (!found) return reply
      const email = textOf(formBody(request.body), 'email').trim()
      if (!email)
        return channelPage(reply.code(400), found, { testerValues: { email }, testerErrors: { email: request.t('error.required') } })
      await invite(app.db, { userId: request.auth!.user.id, ip: request.ip }, email, {
        kind: 'tester',
        providerId: found.channel.providerId,
        channelId: found.channel.id,
      })
      return reply.redirect(`/console/channels/${found.channel.id}?invited=1`, 303)
    })

    scope.post('/console/channels/:channelId/applications', { preHandler: app.csrfProtection }, async (request, reply) => {
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
        await applyForPermissions(app.db, actorOf(request), found.channel.id, parsed.data)
      } catch (error) {
        if (!(error instanceof ReviewError)) throw error
        return channelPage(reply.code(409), found, { applyValues, problem: request.t(error.key, error.params) })
      }
      return reply.redirect(`/console/channels/${found.channel.id}`, 303)
    })
  })
}

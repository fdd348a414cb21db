// The HTML half of an authorization: the login and consent pages of one interaction, bound to
// the browser that started it. The last step issues the code and sends the browser back.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import type { Config } from '../config.ts'
import { authenticateForAudit } from '../auth/accounts.ts'
import { withinPasswordLimit } from '../auth/password-policy.ts'
import { endSession, startSession } from '../auth/session.ts'
import { constantTimeEqual, sha256 } from '../crypto/tokens.ts'
import { formBody, textOf } from '../http/forms.ts'
import { authorizationErrorParams, replyToCallback } from '../http/oauth-reply.ts'
import type { AuthorizationRequest } from '../oauth/authorize.ts'
import { callbackWith } from '../oauth/authorize.ts'
import { decideNextStep, newAuthorizationCode } from '../oauth/authorization-flow.ts'
import { OAuthError } from '../oauth/errors.ts'
import { grantedScopes, type Grant } from '../oauth/interaction.ts'
import { isDataItem, type DataItem } from '../oauth/scopes.ts'
import { cookieName, httpsOrigin } from '../plugins/security.ts'
import { messageText } from '../i18n/index.ts'
import { describeItem, genderOptions, itemLabel, profileField } from '../profile/labels.ts'
import { ITEM_FIELDS, validateProfileForm, type ProfileErrors, type ProfileItem, type ProfilePlus } from '../profile/profile.ts'
import type { Channel } from '../storage/channels.ts'
import { mergeDecision } from '../storage/grants.ts'
import { completeInteraction, finishInteraction, recordInteractionLogin, type InteractionRecord } from '../storage/interactions.ts'
import { findInteractionContext } from '../storage/contexts.ts'
import { saveProfile } from '../storage/profiles.ts'
import { auditLogin, LOGIN_FAILED, tooManyFromIp } from './accounts.ts'
import { INTERACTION_TTL_SECONDS } from './authorize.ts'

interface Loaded {
  interaction: InteractionRecord
  request: AuthorizationRequest
  channel: Channel
  /** The session user's Profile+ data (read with the interaction). */
  profile: ProfilePlus
  /** The channel's provider, and the privacy policy its approved application names. */
  providerName: string
  privacyPolicyUrl: string | null
}

export default async function interactionRoutes(app: FastifyInstance, { config }: { config: Config }) {
  const browserCookie = cookieName(config, 'plusid_browser')
  const issuer = app.oauth.issuer

  /**
   * The interaction of the URL with its channel, the browser's session, the user's grant and
   * profile (one round trip), if this browser started it and it has not expired; else a page says why.
   */
  const load = async (request: FastifyRequest, reply: FastifyReply): Promise<Loaded | undefined> => {
    const { id } = request.params as { id: string }
    const sessionToken = app.sessionToken(request)
    const context = /^[A-Za-z0-9_-]{22}$/.test(id) ? await findInteractionContext(app.db, id, sessionToken?.id ?? null) : undefined
    const key = request.cookies[browserCookie]
    const t = request.t.bind(request)
    if (!context || !key || !constantTimeEqual(sha256(key), context.interaction.browserHash)) {
      reply.code(404).page('error', {
        title: t('interaction.notFoundTitle'),
        heading: t('interaction.notFoundHeading'),
        message: t('interaction.notFoundMessage'),
        link: { href: '/', label: t('common.goToPlusid') },
      })
      return undefined
    }
    await app.adoptSession(request, reply, sessionToken, context.session)
    const { interaction, channel } = context
    const authorization = interaction.request as unknown as AuthorizationRequest
    // The pages of this authorization speak the language its ui_locales asked for.
    request.useAuthorizationLocale(authorization.uiLocales, new Date(interaction.expiresAt.getTime() - INTERACTION_TTL_SECONDS * 1000))
    request.pagePath = `/interaction/${interaction.id}`
    if (interaction.expiresAt.getTime() <= Date.now()) {
      const back = callbackWith(
        authorization.redirectUri,
        authorizationErrorParams(new OAuthError('access_denied', 'the login page expired'), authorization, issuer),
      )
      reply.code(410).page(
        'error',
        {
          title: t('interaction.expiredTitle'),
          heading: t('interaction.expiredHeading'),
          message: t('interaction.expiredMessage', { channel: channel.name }),
          link: { href: back, label: t('interaction.returnTo', { channel: channel.name }) },
        },
        { formAction: [authorization.redirectUri] },
      )
      return undefined
    }
    return {
      interaction,
      request: authorization,
      channel,
      profile: context.profile,
      providerName: context.providerName,
      privacyPolicyUrl: context.privacyPolicyUrl,
    }
  }

  /** Sends the error to the channel and closes the interaction. */
  const fail = async (reply: FastifyReply, loaded: Loaded, error: OAuthError) => {
    await finishInteraction(app.db, loaded.interaction.id)
    return replyToCallback(reply, loaded.request, authorizationErrorParams(error, loaded.request, issuer))
  }

  const sessionOf = (request: FastifyRequest) =>
    request.auth ? { userId: request.auth.user.id, authTime: request.auth.session.authTime, grant: request.auth.grant ?? null } : null
  const loggedInNow = (request: FastifyRequest, interaction: InteractionRecord) =>
    request.auth !== null && interaction.userId === request.auth.user.id && interaction.authTime !== null

  const pageOptions = (loaded: Loaded) => ({ formAction: [loaded.request.redirectUri] })

  const loginPage = (reply: FastifyReply, loaded: Loaded, extra: { email?: string; error?: string } = {}) =>
    reply.page(
      'login',
      {
        title: reply.request.t('login.title'),
        action: `/interaction/${loaded.interaction.id}/login`,
        channelName: loaded.channel.name,
        cancelable: true,
        email: extra.email ?? loaded.request.loginHint ?? '',
        error: extra.error,
        registerUrl: `/register?next=${encodeURIComponent(`/interaction/${loaded.interaction.id}`)}`,
      },
      pageOptions(loaded),
    )

  /** Which data items the consent page asks about: the undecided ones, or all with prompt=consent or a public channel. */
  const shownItems = (loaded: Loaded, undecided: DataItem[]): DataItem[] => {
    const requested = loaded.request.scopes.filter(isDataItem)
    return loaded.request.prompt.includes('consent') || loaded.channel.isPublic ? requested : undecided
  }

  const consentPage = (
    reply: FastifyReply,
    loaded: Loaded,
    user: { email: string; displayName: string },
    profile: ProfilePlus,
    items: DataItem[],
    submitted?: { checked: Set<string>; body: Record<string, unknown>; errors: ProfileErrors },
  ) => {
    const { locale } = reply.request
    const t = reply.request.t.bind(reply.request)
    const required = loaded.request.scopes
      .filter((scope) => !isDataItem(scope))
      .map((scope) => ({ label: itemLabel(locale, scope), value: scope === 'profile' ? user.displayName : null }))
    const country = submitted ? textOf(submitted.body, 'address.country') : 'JP'
    const optional = items.map((scope) => {
      const value = scope === 'email' ? user.email : describeItem(locale, profile, scope)
      const fields =
        value === null && scope !== 'email'
          ? ITEM_FIELDS[scope as ProfileItem].map((field) => {
              const error = submitted?.errors[field]
              const typed = submitted ? textOf(submitted.body, field) : field === 'address.country' ? 'JP' : ''
              return profileField(locale, field, typed, error && messageText(t, error), country)
            })
          : []
      return { scope, label: itemLabel(locale, scope), value, checked: submitted ? submitted.checked.has(scope) : true, fields }
    })
    return reply.code(submitted ? 400 : 200).page(
      'consent',
      {
        title: t('consent.title', { channel: loaded.channel.name }),
        channelName: loaded.channel.name,
        providerName: loaded.providerName,
        iconUrl: loaded.channel.iconUrl && httpsOrigin(loaded.channel.iconUrl) ? loaded.channel.iconUrl : null,
        genderOptions: genderOptions(locale),
        privacyPolicyUrl: loaded.privacyPolicyUrl ?? loaded.channel.privacyPolicyUrl,
        action: `/interaction/${loaded.interaction.id}/consent`,
        requiredItems: required,
        optionalItems: optional,
        hasErrors: submitted !== undefined,
      },
      { ...pageOptions(loaded), image: loaded.channel.iconUrl },
    )
  }

  /**
   * Issues the code for the decided scopes and sends the browser back. The interaction ends, the
   * grant is recorded and the code stored in one statement (with the profile fill-ins, if any, in
   * the same transaction).
   */
  const complete = async (
    reply: FastifyReply,
    loaded: Loaded,
    userId: string,
    scopes: string[],
    authTime: Date,
    amr: string[],
    decision: { grant: Grant; granted: string[]; refused: string[]; fills: Partial<ProfilePlus> | null } | null,
  ) => {
    const now = new Date()
    const { code, record } = newAuthorizationCode(app.oauth, loaded.request, userId, scopes, authTime, amr, now)
    const completion = {
      interactionId: loaded.interaction.id,
      userId,
      channelId: loaded.channel.id,
      grant: decision?.grant ?? null,
      code: record,
      sessionId: reply.request.auth!.session.id,
      now,
      ...(decision
        ? {
            audit: {
              actorId: userId,
              actorKind: 'user' as const,
              action: 'consent.decided',
              objectType: 'channel',
              objectId: loaded.channel.id,
              ip: reply.request.ip,
              details: { granted: decision.granted, refused: decision.refused },
            },
          }
        : {}),
    }
    const fills = decision?.fills
    const completed = fills
      ? await app.db.transaction().execute(async (trx) => {
          if (!(await completeInteraction(trx, completion))) return false
          await saveProfile(trx, userId, fills)
          return true
        })
      : await completeInteraction(app.db, completion)
    if (!completed) {
      const t = reply.request.t.bind(reply.request)
      return reply.code(409).page('error', {
        title: t('interaction.doneTitle'),
        heading: t('interaction.doneHeading'),
        message: t('interaction.doneMessage'),
        link: { href: '/', label: t('common.goToPlusid') },
      })
    }
    return replyToCallback(reply, loaded.request, { code, state: loaded.request.state, iss: issuer })
  }

  app.get('/interaction/:id', async (request, reply) => {
    const loaded = await load(request, reply)
    if (!loaded) return reply
    try {
      const next = await decideNextStep(
        app.oauth,
        loaded.request,
        loaded.channel,
        sessionOf(request),
        loggedInNow(request, loaded.interaction),
        new Date(),
      )
      if (next.step === 'login') return loginPage(reply, loaded)
      const auth = request.auth!
      if (next.step === 'consent') return consentPage(reply, loaded, auth.user, loaded.profile, shownItems(loaded, next.undecided))
      return complete(reply, loaded, auth.user.id, next.scopes, auth.session.authTime, next.amr, null)
    } catch (error) {
      if (error instanceof OAuthError) return fail(reply, loaded, error)
      throw error
    }
  })

  app.post('/interaction/:id/login', { preHandler: app.csrfProtection }, async (request, reply) => {
    const loaded = await load(request, reply)
    if (!loaded) return reply
    const body = formBody(request.body)
    if (body.decision === 'cancel') return fail(reply, loaded, new OAuthError('access_denied', 'the user cancelled the login'))
    if (await tooManyFromIp(app.rateLimits, request, reply, app.limits.loginPerIp)) return reply
    const email = textOf(body, 'email')
    const password = textOf(body, 'password')
    const { user, targetedUserId } =
      email.length <= 320 && withinPasswordLimit(password)
        ? await authenticateForAudit(app.db, app.rateLimits, email.trim(), password)
        : { user: null, targetedUserId: null }
    await auditLogin(app.db, request.ip, user, targetedUserId)
    if (!user) {
      request.log.info('login failed')
      return loginPage(reply.code(401), loaded, { email, error: request.t(LOGIN_FAILED) })
    }
    const now = new Date()
    await endSession(app.db, request.auth?.token)
    const session = await startSession(
      app.db,
      user.id,
      { ip: request.ip, userAgent: request.headers['user-agent'] ?? null, authTime: now },
      { now, ttlSeconds: config.sessionTtlSeconds, maxAgeSeconds: config.sessionMaxAgeSeconds },
    )
    // Disabled between the password check and now: the same failure as a wrong password.
    if (!session) return loginPage(reply.code(401), loaded, { email, error: request.t(LOGIN_FAILED) })
    await recordInteractionLogin(app.db, loaded.interaction.id, user.id, now)
    request.log.info({ userId: user.id }, 'login succeeded')
    return reply.setSessionCookie(session.token, session.expiresAt).redirect(`/interaction/${loaded.interaction.id}`, 303)
  })

  app.post('/interaction/:id/consent', { preHandler: app.csrfProtection }, async (request, reply) => {
    const loaded = await load(request, reply)
    if (!loaded) return reply
    const body = formBody(request.body)
    try {
      const next = await decideNextStep(
        app.oauth,
        loaded.request,
        loaded.channel,
        sessionOf(request),
        loggedInNow(request, loaded.interaction),
        new Date(),
      )
      if (next.step === 'login') return reply.redirect(`/interaction/${loaded.interaction.id}`, 303)
      if (body.decision !== 'allow') return fail(reply, loaded, new OAuthError('access_denied', 'The resource owner denied the request.'))
      const auth = request.auth!
      const profile = loaded.profile
      const shown = shownItems(loaded, next.step === 'consent' ? next.undecided : [])
      const checked = new Set(
        [body.items ?? []].flat().filter((item): item is string => typeof item === 'string' && (shown as string[]).includes(item)),
      )

      // Checked items the user has not registered are filled in on this page, validated as in the editor.
      const toFill = shown.filter(
        (item): item is ProfileItem => item !== 'email' && checked.has(item) && describeItem(request.locale, profile, item) === null,
      )
      const filled = validateProfileForm(body, toFill)
      const errors: ProfileErrors = filled.ok ? {} : { ...filled.errors }
      if (filled.ok) {
        for (const item of toFill) {
          const key = { real_name: 'realName', gender: 'gender', birthdate: 'birthdate', phone: 'phoneNumber', address: 'address' }[
            item
          ] as keyof ProfilePlus
          if (filled.profile[key] === null) errors[ITEM_FIELDS[item][0]] = { key: 'error.requiredToShare' }
        }
      }
      if (Object.keys(errors).length > 0) return consentPage(reply, loaded, auth.user, profile, shown, { checked, body, errors })

      // The items decided now replace earlier decisions on the same items; others stay as they were.
      const required = loaded.request.scopes.filter((scope) => !isDataItem(scope))
      const granted = [...required, ...shown.filter((item) => checked.has(item))]
      const refused = shown.filter((item) => !checked.has(item))
      const grant = mergeDecision(auth.grant ?? null, granted, refused)
      request.log.info({ userId: auth.user.id, channelId: loaded.channel.id, granted, refused }, 'consent recorded')
      const amr = [loggedInNow(request, loaded.interaction) ? 'pwd' : 'linesso']
      const fills = toFill.length > 0 && filled.ok ? filled.profile : null
      return complete(reply, loaded, auth.user.id, grantedScopes(loaded.request.scopes, grant), auth.session.authTime, amr, {
        grant,
        granted,
        refused,
        fills,
      })
    } catch (error) {
      if (error instanceof OAuthError) return fail(reply, loaded, error)
      throw error
    }
  })
}

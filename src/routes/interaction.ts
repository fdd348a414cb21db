// The HTML half of an authorization: the login and consent pages of one interaction, bound to
// the browser that started it. The last step issues the code and sends the browser back. The
// work is in src/interaction/ (and the one login of src/accounts/); this file parses and renders.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { accountsContext, originOf } from '../accounts/context.ts'
import { Credentials, LOGIN_FAILED } from '../accounts/login.ts'
import type { Config } from '../config.ts'
import { constantTimeEqual, sha256 } from '../crypto/tokens.ts'
import { formBody, textOf } from '../http/forms.ts'
import { authorizationErrorParams, replyToCallback } from '../http/oauth-reply.ts'
import { tooManyFromIp } from '../http/too-many.ts'
import { messageText } from '../i18n/index.ts'
import { type ConsentChoice, completeAuthorization, decideConsent, shownItems } from '../interaction/consent.ts'
import { abandonInteraction, type Channel, type InteractionRecord, openInteraction } from '../interaction/load.ts'
import { logInToInteraction } from '../interaction/login.ts'
import type { AuthorizationRequest } from '../oauth/authorize.ts'
import { callbackWith } from '../oauth/authorize.ts'
import { decideNextStep } from '../oauth/authorization-flow.ts'
import { OAuthError } from '../oauth/errors.ts'
import { grantedScopes, loginMethods } from '../oauth/interaction.ts'
import { type DataItem, isDataItem } from '../oauth/scopes.ts'
import { cookieName, httpsOrigin } from '../plugins/security.ts'
import { describeItem, genderOptions, itemLabel, profileField } from '../profile/labels.ts'
import { ITEM_FIELDS, type ProfileErrors, type ProfileItem, type ProfilePlus } from '../profile/profile.ts'
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
  const accounts = accountsContext(app, config)

  /**
   * The interaction of the URL with its channel, the browser's session, the user's grant and
   * profile (one round trip), if this browser started it and it has not expired; else a page says why.
   */
  const load = async (request: FastifyRequest, reply: FastifyReply): Promise<Loaded | undefined> => {
    const { id } = request.params as { id: string }
    const sessionToken = app.sessionToken(request)
    const context = await openInteraction(app.db, id, sessionToken?.id ?? null)
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
    await abandonInteraction(app.db, loaded.interaction.id)
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

  const shown = (loaded: Loaded, undecided: DataItem[]) => shownItems(loaded.request, loaded.channel.isPublic, undecided)

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

  /** Issues the code for the decided scopes and sends the browser back (interaction/consent.ts). */
  const complete = async (reply: FastifyReply, loaded: Loaded, scopes: string[], amr: string[], choice: ConsentChoice | null) => {
    const auth = reply.request.auth!
    const code = await completeAuthorization(app.oauth, {
      interactionId: loaded.interaction.id,
      request: loaded.request,
      channelId: loaded.channel.id,
      session: { id: auth.session.id, userId: auth.user.id, authTime: auth.session.authTime },
      scopes,
      amr,
      ip: reply.request.ip,
      choice,
    })
    if (code === null) {
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
      if (next.step === 'consent') return consentPage(reply, loaded, auth.user, loaded.profile, shown(loaded, next.undecided))
      return complete(reply, loaded, next.scopes, next.amr, null)
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
    const parsed = Credentials.safeParse(body)
    const id = loaded.interaction.id
    const login = await logInToInteraction(accounts, originOf(request), id, parsed.success ? parsed.data : null, request.auth?.token)
    if (!login.ok) {
      request.log.info('login failed')
      return loginPage(reply.code(401), loaded, { email, error: request.t(LOGIN_FAILED) })
    }
    request.log.info({ userId: login.user.id }, 'login succeeded')
    return reply.setSessionCookie(login.session.token, login.session.expiresAt).redirect(`/interaction/${id}`, 303)
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
      const items = shown(loaded, next.step === 'consent' ? next.undecided : [])
      const decision = decideConsent(request.locale, loaded.request, items, body, loaded.profile, auth.grant ?? null)
      if (!decision.ok) return consentPage(reply, loaded, auth.user, loaded.profile, items, { ...decision, body })
      const { choice } = decision
      request.log.info(
        { userId: auth.user.id, channelId: loaded.channel.id, granted: choice.granted, refused: choice.refused },
        'consent recorded',
      )
      const amr = loginMethods(loggedInNow(request, loaded.interaction))
      return complete(reply, loaded, grantedScopes(loaded.request.scopes, choice.grant), amr, choice)
    } catch (error) {
      if (error instanceof OAuthError) return fail(reply, loaded, error)
      throw error
    }
  })
}

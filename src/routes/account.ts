// The signed-in user's pages: account home, the Profile+ editor and the password change.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { PasswordChangeForm, changePassword } from '../accounts/change-password.ts'
import { accountsContext, originOf } from '../accounts/context.ts'
import { ownProfile, updateProfile } from '../accounts/profile.ts'
import type { Config } from '../config.ts'
import { fieldErrors, formBody } from '../http/forms.ts'
import { issueMessage, messageText } from '../i18n/index.ts'
import { describeItem, FORM_FIELDS, genderOptions, inJapan, itemLabel, profileField } from '../profile/labels.ts'
import { addressFromPostalCode } from '../profile/postal-lookup.ts'
import { ITEM_FIELDS, PROFILE_ITEMS, profileToForm, validateProfileForm, type ProfileErrors, type ProfileForm } from '../profile/profile.ts'
import * as rules from '../profile/rules.ts'

/** The editor's view model: one fieldset per item, the display name first. */
function editorPage(
  request: FastifyRequest,
  form: ProfileForm & { name?: string },
  errors: ProfileErrors,
  hasErrors: boolean,
  notice: string | null = null,
) {
  const locale = request.locale
  const t = request.t.bind(request)
  const error = (field: string) => (errors[field] ? messageText(t, errors[field]) : undefined)
  const account = {
    legend: t('profile.account'),
    fields: [{ name: 'name', label: t('account.displayName'), value: form.name ?? '', error: error('name'), autocomplete: 'nickname' }],
  }
  const country = form['address.country'] ?? ''
  const items = PROFILE_ITEMS.map((item) => ({
    legend: itemLabel(locale, item),
    fields: ITEM_FIELDS[item].map((field) => profileField(locale, field, form[field] ?? '', error(field), country)),
  }))
  return { title: t('profile.title'), groups: [account, ...items], genderOptions: genderOptions(locale), hasErrors, notice }
}

/** The form as typed, nothing saved. */
function typedForm(body: Record<string, unknown>): ProfileForm & { name?: string } {
  const form: ProfileForm & { name?: string } = { name: typeof body.name === 'string' ? body.name : '' }
  for (const field of FORM_FIELDS) if (typeof body[field] === 'string') form[field] = body[field] as string
  return form
}

/**
 * The editor's "fill in from the postal code" button (no script needed): the same form comes
 * back with the prefecture and city of a Japanese postal code filled in, not yet saved.
 */
function lookUpAddress(request: FastifyRequest, body: Record<string, unknown>) {
  const form = typedForm(body)
  const found = inJapan(form['address.country'] ?? '') ? addressFromPostalCode(form['address.postal_code'] ?? '') : null
  if (!found) return editorPage(request, form, { 'address.postal_code': { key: 'error.postalUnknown' } }, false)
  form['address.region'] = found.region
  form['address.locality'] = found.locality
  return editorPage(request, form, {}, false, request.t('profile.lookedUp'))
}

export default async function accountPages(app: FastifyInstance, { config }: { config: Config }) {
  const accounts = accountsContext(app, config)

  app.get('/account', { preHandler: app.requireUser }, async (request, reply) => {
    const { user } = request.auth!
    const profile = await ownProfile(app.db, user.id)
    const items = PROFILE_ITEMS.map((item) => ({
      label: itemLabel(request.locale, item),
      value: describeItem(request.locale, profile, item),
    }))
    const saved = (request.query as Record<string, unknown>).saved === '1'
    return reply.page('account', { title: request.t('account.title'), user, items, saved })
  })

  app.get('/account/profile', { preHandler: app.requireUser }, async (request, reply) => {
    const { user } = request.auth!
    const form = { ...profileToForm(await ownProfile(app.db, user.id)), name: user.displayName }
    return reply.page('profile', editorPage(request, form, {}, false))
  })

  app.post('/account/profile', { preHandler: [app.csrfProtection, app.requireUser] }, async (request, reply) => {
    const { user } = request.auth!
    const body = formBody(request.body)
    if (body.lookup === 'address') return reply.page('profile', lookUpAddress(request, body))
    const result = validateProfileForm(body, PROFILE_ITEMS)
    const name = rules.displayName.safeParse(body.name)
    const errors: ProfileErrors = result.ok ? {} : { ...result.errors }
    if (!name.success) errors.name = name.error.issues[0] ? issueMessage(name.error.issues[0]) : { key: 'error.invalid' }
    if (!result.ok || !name.success) {
      // Every submitted value comes back, valid or not, so nothing typed is lost.
      const form = { ...(result.ok ? {} : result.form), ...typedForm(body) }
      return reply.code(400).page('profile', editorPage(request, form, errors, true))
    }
    await updateProfile(app.db, originOf(request), user, result.profile, name.data)
    request.log.info({ userId: user.id }, 'profile saved')
    return reply.redirect('/account?saved=1', 303)
  })

  app.get('/account/password', { preHandler: app.requireUser }, async (request, reply) => {
    const changed = (request.query as Record<string, unknown>).changed === '1'
    return reply.page('password', {
      title: request.t('password.title'),
      errors: {},
      notice: changed ? request.t('password.changed') : null,
    })
  })

  app.post('/account/password', { preHandler: [app.csrfProtection, app.requireUser] }, async (request, reply) => {
    const { user } = request.auth!
    const parsed = PasswordChangeForm.safeParse(formBody(request.body))
    const again = (errors: Record<string, string>) =>
      reply.code(400).page('password', { title: request.t('password.title'), errors, notice: null })
    if (!parsed.success) return again(fieldErrors(parsed.error, request.t.bind(request)))
    const change = await changePassword(accounts, originOf(request), user, parsed.data)
    if (!change.ok) return again({ current_password: request.t('error.notYourPassword') })
    const { session } = change
    request.log.info({ userId: user.id }, 'password changed')
    // Disabled meanwhile: every session has ended, this one too.
    if (!session) return reply.redirect('/login', 303)
    return reply.setSessionCookie(session.token, session.expiresAt).redirect('/account/password?changed=1', 303)
  })
}

// The signed-in user's pages: account home and the Profile+ editor.
import type { FastifyInstance } from 'fastify'
import { formBody } from '../http/forms.ts'
import { describeItem, FIELD_PRESENTATION, ITEM_LABELS } from '../profile/labels.ts'
import { ITEM_FIELDS, PROFILE_ITEMS, profileToForm, validateProfileForm, type FieldErrors, type ProfileForm } from '../profile/profile.ts'
import * as rules from '../profile/rules.ts'
import { findProfile, saveProfile } from '../storage/profiles.ts'
import { updateDisplayName } from '../storage/users.ts'
import { appendAudit } from '../storage/audit.ts'

/** The editor's view model: one fieldset per item, the display name first. */
function editorGroups(form: ProfileForm & { name?: string }, errors: FieldErrors) {
  const account = { legend: 'Account', fields: [{ name: 'name', label: 'Display name', value: form.name ?? '', error: errors.name, autocomplete: 'nickname' }] }
  const items = PROFILE_ITEMS.map((item) => ({
    legend: ITEM_LABELS[item],
    fields: ITEM_FIELDS[item].map((field) => ({ name: field, value: form[field] ?? '', error: errors[field], ...FIELD_PRESENTATION[field] })),
  }))
  return [account, ...items]
}

export default async function accountPages(app: FastifyInstance) {
  app.get('/account', { preHandler: app.requireUser }, async (request, reply) => {
    const { user } = request.auth!
    const profile = await findProfile(app.db, user.id)
    const items = PROFILE_ITEMS.map((item) => ({ label: ITEM_LABELS[item], value: describeItem(profile, item) }))
    const saved = (request.query as Record<string, unknown>).saved === '1'
    return reply.page('account', { title: 'Your account', user, items, saved })
  })

  app.get('/account/profile', { preHandler: app.requireUser }, async (request, reply) => {
    const { user } = request.auth!
    const form = { ...profileToForm(await findProfile(app.db, user.id)), name: user.displayName }
    return reply.page('profile', { title: 'Edit Profile+', groups: editorGroups(form, {}), hasErrors: false })
  })

  app.post('/account/profile', { preHandler: [app.csrfProtection, app.requireUser] }, async (request, reply) => {
    const { user } = request.auth!
    const body = formBody(request.body)
    const result = validateProfileForm(body, PROFILE_ITEMS)
    const name = rules.displayName.safeParse(body.name)
    const errors: FieldErrors = result.ok ? {} : { ...result.errors }
    if (!name.success) errors.name = name.error.issues[0]?.message ?? 'is not valid'
    if (!result.ok || !name.success) {
      const form = { ...(result.ok ? {} : result.form), name: typeof body.name === 'string' ? body.name : '' }
      // Every submitted value comes back, valid or not, so nothing typed is lost.
      for (const field of Object.keys(FIELD_PRESENTATION) as (keyof ProfileForm)[]) {
        if (typeof body[field] === 'string') form[field] = body[field] as string
      }
      return reply.code(400).page('profile', { title: 'Edit Profile+', groups: editorGroups(form, errors), hasErrors: true })
    }
    await app.db.transaction().execute(async (trx) => {
      await saveProfile(trx, user.id, result.profile)
      if (name.data !== user.displayName) await updateDisplayName(trx, user.id, name.data)
      await appendAudit(trx, { actorId: user.id, actorKind: 'user', action: 'profile.updated', objectType: 'user', objectId: user.id, ip: request.ip })
    })
    request.log.info({ userId: user.id }, 'profile saved')
    return reply.redirect('/account?saved=1', 303)
  })
}

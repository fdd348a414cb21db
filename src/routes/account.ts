// The signed-in user's pages: account home, the Profile+ editor and the password change.
import { z } from 'zod'
import type { FastifyInstance } from 'fastify'
import type { Config } from '../config.ts'
import { authenticate, changePassword } from '../auth/accounts.ts'
import { startSession } from '../auth/session.ts'
import { fieldErrors } from '../http/forms.ts'
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

// The current password is only compared, never stored: any string up to a bound that keeps argon2
// cheap; the new one follows the registration policy (profile/rules.ts, the one place it lives).
const PasswordChangeForm = z
  .object({ current_password: z.string().min(1, 'is required').max(4096, 'is not your password'), new_password: rules.newPassword, new_password_again: z.string() })
  .refine((form) => form.new_password === form.new_password_again, { path: ['new_password_again'], message: 'does not match the new password' })

export default async function accountPages(app: FastifyInstance, { config }: { config: Config }) {
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

  app.get('/account/password', { preHandler: app.requireUser }, async (request, reply) => {
    const changed = (request.query as Record<string, unknown>).changed === '1'
    return reply.page('password', { title: 'Change your password', errors: {}, notice: changed ? 'Your password was changed. Every other session has ended.' : null })
  })

  app.post('/account/password', { preHandler: [app.csrfProtection, app.requireUser] }, async (request, reply) => {
    const { user } = request.auth!
    const parsed = PasswordChangeForm.safeParse(formBody(request.body))
    const again = (errors: Record<string, string>) => reply.code(400).page('password', { title: 'Change your password', errors, notice: null })
    if (!parsed.success) return again(fieldErrors(parsed.error))
    // The current password, through the login check and its lockout: a session left open on a
    // shared computer must not be enough, nor a way to guess the password.
    const confirmed = await authenticate(app.db, app.rateLimits, user.email, parsed.data.current_password)
    if (!confirmed || confirmed.id !== user.id) return again({ current_password: 'is not your password' })
    const now = new Date()
    // This browser keeps a session, under a new id: the old cookie, wherever it was copied, is dead.
    const session = await changePassword(app.db, user.id, parsed.data.new_password, { ip: request.ip, now }, (trx) =>
      startSession(trx, user.id, { ip: request.ip, userAgent: typeof request.headers['user-agent'] === 'string' ? request.headers['user-agent'] : null }, { now, ttlSeconds: config.sessionTtlSeconds }),
    )
    request.log.info({ userId: user.id }, 'password changed')
    return reply.setSessionCookie(session.token, session.expiresAt).redirect('/account/password?changed=1', 303)
  })
}

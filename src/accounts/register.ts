// A new account from the registration page: created, audited and logged in, all or nothing.
import { z } from 'zod'
import { registerAccount } from '../auth/accounts.ts'
import { newPassword } from '../auth/password-policy.ts'
import { endSession, startSession } from '../auth/session.ts'
import * as rules from '../profile/rules.ts'
import { appendAudit } from '../storage/audit.ts'
import type { User } from '../storage/users.ts'
import { type AccountsContext, type RequestOrigin, sessionClock } from './context.ts'

export const RegistrationForm = z.object({ email: rules.email, password: newPassword, name: rules.displayName })
export type RegistrationForm = z.infer<typeof RegistrationForm>

export type RegisterResult = { ok: true; user: User; session: { token: string; expiresAt: Date } } | { ok: false; reason: 'email_taken' }

/** Creates the account and replaces the browser's session with one for it. */
export async function register(
  ctx: AccountsContext,
  origin: RequestOrigin,
  form: RegistrationForm,
  previousSessionToken: string | undefined,
): Promise<RegisterResult> {
  const registration = await ctx.db.transaction().execute(async (trx) => {
    const result = await registerAccount(trx, { email: form.email, password: form.password, displayName: form.name })
    if (result.ok)
      await appendAudit(trx, {
        actorId: result.user.id,
        actorKind: 'user',
        action: 'account.registered',
        objectType: 'user',
        objectId: result.user.id,
        ip: origin.ip,
      })
    return result
  })
  if (!registration.ok) return registration
  await endSession(ctx.db, previousSessionToken)
  const session = await startSession(ctx.db, registration.user.id, origin, sessionClock(ctx, new Date()))
  if (!session) throw new Error('a new account cannot be disabled yet')
  return { ok: true, user: registration.user, session }
}

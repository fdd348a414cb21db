// The password change: the current password confirmed, the new one stored, every other way to
// act as the user ended, and this browser given a fresh session (auth/accounts.ts, changePassword).
import { z } from 'zod'
import { authenticate, changePassword as storeNewPassword } from '../auth/accounts.ts'
import { newPassword, withinPasswordLimit } from '../auth/password-policy.ts'
import { startSession } from '../auth/session.ts'
import type { User } from '../storage/users.ts'
import { type AccountsContext, type RequestOrigin, sessionClock } from './context.ts'

// The current password is only compared, never stored: any string up to a bound that keeps argon2
// cheap; the new one follows the registration policy (auth/password-policy.ts, the one place it lives).
export const PasswordChangeForm = z
  .object({
    current_password: z.string().min(1, 'error.required').refine(withinPasswordLimit, 'error.notYourPassword'),
    new_password: newPassword,
    new_password_again: z.string(),
  })
  .refine((form) => form.new_password === form.new_password_again, { path: ['new_password_again'], message: 'error.passwordMismatch' })
export type PasswordChangeForm = z.infer<typeof PasswordChangeForm>

export type PasswordChange =
  | { ok: false; reason: 'not_your_password' }
  /** session is null when the account was disabled meanwhile: every session has ended, this one too. */
  | { ok: true; session: { token: string; expiresAt: Date } | null }

/**
 * True when the password is the user's, through the login check and its lockout: a session left
 * open on a shared computer must not be enough, nor a way to guess the password.
 */
export async function confirmPassword(ctx: AccountsContext, user: User, password: string): Promise<boolean> {
  if (!withinPasswordLimit(password)) return false
  const confirmed = await authenticate(ctx.db, ctx.counters, user.email, password)
  return confirmed !== null && confirmed.id === user.id
}

export async function changePassword(
  ctx: AccountsContext,
  origin: RequestOrigin,
  user: User,
  form: PasswordChangeForm,
): Promise<PasswordChange> {
  if (!(await confirmPassword(ctx, user, form.current_password))) return { ok: false, reason: 'not_your_password' }
  const now = new Date()
  // This browser keeps a session, under a new id: the old cookie, wherever it was copied, is dead.
  const session = await storeNewPassword(ctx.db, user.id, form.new_password, { ip: origin.ip, now }, (trx) =>
    startSession(trx, user.id, origin, sessionClock(ctx, now)),
  )
  return { ok: true, session }
}

// The one login: the login page and the authorization interaction both call logIn, so the checks,
// the lockout, the audit entry and the new session are the same wherever a password is typed.
import { z } from 'zod'
import { authenticateForAudit } from '../auth/accounts.ts'
import { withinPasswordLimit } from '../auth/password-policy.ts'
import { endSession, startSession } from '../auth/session.ts'
import type { MessageKey } from '../i18n/index.ts'
import { appendAudit } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import type { User } from '../storage/users.ts'
import { type AccountsContext, type RequestOrigin, sessionClock } from './context.ts'

/** One message for an unknown email and a wrong password: it must not tell which one it was. */
export const LOGIN_FAILED = 'login.failed' satisfies MessageKey

// Login checks no format: any string is looked up, and a mismatch gets the one generic answer.
export const Credentials = z.object({
  email: z.string().max(320),
  password: z.string().refine(withinPasswordLimit),
})
export type Credentials = z.infer<typeof Credentials>

export type LoginResult = { ok: true; user: User; session: { token: string; expiresAt: Date } } | { ok: false }

/**
 * Checks the password (null credentials — the form did not parse — fail like a wrong password),
 * audits the attempt, and on success replaces the browser's session with a new one: a session id
 * planted before login is worth nothing after. `then` runs in the transaction that starts the
 * session (the interaction records its login there).
 */
export async function logIn(
  ctx: AccountsContext,
  origin: RequestOrigin,
  credentials: Credentials | null,
  previousSessionToken: string | undefined,
  then?: (trx: Executor, userId: string, now: Date) => Promise<void>,
): Promise<LoginResult> {
  const { user, targetedUserId } = credentials
    ? await authenticateForAudit(ctx.db, ctx.counters, credentials.email.trim(), credentials.password)
    : { user: null, targetedUserId: null }
  const audit = {
    actorId: user?.id ?? null,
    actorKind: user ? ('user' as const) : ('anonymous' as const),
    action: user ? 'login.succeeded' : 'login.failed',
    objectType: targetedUserId ? 'user' : null,
    objectId: targetedUserId,
    ip: origin.ip,
  }
  if (!user) {
    await appendAudit(ctx.db, audit)
    return { ok: false }
  }
  const now = new Date()
  return ctx.db.transaction().execute(async (trx) => {
    await appendAudit(trx, audit)
    await endSession(trx, previousSessionToken)
    const session = await startSession(trx, user.id, { ...origin, authTime: now }, sessionClock(ctx, now))
    // Disabled between the password check and now: the same failure as a wrong password.
    if (!session) return { ok: false } as const
    await then?.(trx, user.id, now)
    return { ok: true, user, session } as const
  })
}

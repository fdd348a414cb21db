// Deleting one's own account, after the password again.
import { appendAudit } from '../storage/audit.ts'
import { deleteUser } from '../storage/user-data.ts'
import type { User } from '../storage/users.ts'
import { confirmPassword } from './change-password.ts'
import type { AccountsContext, RequestOrigin } from './context.ts'

/** False when the password is not the user's (nothing deleted). */
export async function deleteAccount(ctx: AccountsContext, origin: RequestOrigin, user: User, password: unknown): Promise<boolean> {
  // The password again: a session left open on a shared computer must not be enough.
  if (typeof password !== 'string' || !(await confirmPassword(ctx, user, password))) return false
  // One transaction: the audit entry (the user's id only, a pseudonym from now on) and the
  // account with everything that references it — all of it, or none.
  await ctx.db.transaction().execute(async (trx) => {
    await appendAudit(trx, {
      actorId: user.id,
      actorKind: 'user',
      ip: origin.ip,
      action: 'account.deleted',
      objectType: 'user',
      objectId: user.id,
    })
    await deleteUser(trx, user.id)
  })
  return true
}

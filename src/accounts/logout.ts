// Logging out: the browser's session ends (the login page's logout and RP-initiated logout alike).
import { endSession } from '../auth/session.ts'
import type { AccountsContext } from './context.ts'

export async function logOut(ctx: Pick<AccountsContext, 'db'>, sessionToken: string | undefined): Promise<void> {
  await endSession(ctx.db, sessionToken)
}

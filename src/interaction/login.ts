// The interaction's login: the one login of accounts/login.ts, and the interaction records that
// its user logged in now (in the same transaction), which makes the code's amr `pwd`.
import type { AccountsContext, RequestOrigin } from '../accounts/context.ts'
import { type Credentials, type LoginResult, logIn } from '../accounts/login.ts'
import { recordInteractionLogin } from '../storage/interactions.ts'

export async function logInToInteraction(
  ctx: AccountsContext,
  origin: RequestOrigin,
  interactionId: string,
  credentials: Credentials | null,
  previousSessionToken: string | undefined,
): Promise<LoginResult> {
  return logIn(ctx, origin, credentials, previousSessionToken, (trx, userId, now) =>
    recordInteractionLogin(trx, interactionId, userId, now),
  )
}

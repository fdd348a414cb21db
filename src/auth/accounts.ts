// Creating accounts and checking passwords. Inputs arrive validated (see profile/rules.ts).
import { randomUUID } from 'node:crypto'
import type { Kysely } from 'kysely'
import type { Executor } from '../storage/database.ts'
import type { DB } from '../storage/schema.ts'
import {
  emailLookupKey,
  findUserWithPasswordByEmail,
  insertUser,
  setUserDisabled,
  updatePasswordHash,
  type User,
} from '../storage/users.ts'
import { appendAudit, type ActorKind } from '../storage/audit.ts'
import { endUserAccess } from '../storage/user-data.ts'
import type { RateLimitStore } from '../security/rate-limits.ts'
import { hashPassword, needsRehash, verifyDummyPassword, verifyPassword } from './password.ts'

export interface NewAccount {
  email: string
  password: string
  displayName: string
  isAdmin?: boolean
}

export type Registration = { ok: true; user: User } | { ok: false; reason: 'email_taken' }

export async function registerAccount(db: Executor, account: NewAccount): Promise<Registration> {
  const passwordHash = await hashPassword(account.password)
  const user = await insertUser(db, {
    id: randomUUID(),
    email: account.email,
    passwordHash,
    displayName: account.displayName,
    isAdmin: account.isAdmin ?? false,
  })
  return user ? { ok: true, user } : { ok: false, reason: 'email_taken' }
}

/**
 * The user with this email and password, or null. An unknown email costs one argon2 verification
 * like a wrong password does, so neither the answer nor its timing tells them apart. A hash made
 * with older parameters is replaced now that the password is known.
 */
export async function authenticate(db: Executor, counters: RateLimitStore, email: string, password: string): Promise<User | null> {
  return (await authenticateForAudit(db, counters, email, password)).user
}

/**
 * authenticate with the account lockout of security/rate-limits.ts, also naming the account a
 * failed attempt targeted (for the audit log only). A delayed or locked account — known or not —
 * costs one dummy argon2 verification and gets the same failure as a wrong password.
 */
export async function authenticateForAudit(
  db: Executor,
  counters: RateLimitStore,
  email: string,
  password: string,
  now = new Date(),
): Promise<{ user: User | null; targetedUserId: string | null }> {
  const lookup = emailLookupKey(email)
  const { mayTry, hasFailures } = await counters.accountMayTry(lookup, now)
  if (!mayTry) return verifyDummyPassword(password).then(() => ({ user: null, targetedUserId: null }))
  const result = await checkPassword(db, email, password)
  if (result.user && hasFailures) await counters.clearAccountFailures(lookup)
  else if (!result.user) await counters.recordAccountFailure(lookup, now)
  return result
}

async function checkPassword(db: Executor, email: string, password: string): Promise<{ user: User | null; targetedUserId: string | null }> {
  const found = await findUserWithPasswordByEmail(db, email)
  if (!found) return verifyDummyPassword(password).then(() => ({ user: null, targetedUserId: null }))
  if (!(await verifyPassword(found.passwordHash, password))) return { user: null, targetedUserId: found.user.id }
  // A disabled account fails like a wrong password, after the same verification: neither the
  // answer nor its timing tells that the account exists and is disabled.
  if (found.disabled) return { user: null, targetedUserId: found.user.id }
  if (needsRehash(found.passwordHash)) await updatePasswordHash(db, found.user.id, await hashPassword(password))
  return { user: found.user, targetedUserId: found.user.id }
}

/**
 * A new password for the user (already checked against the current one and the policy): stored as
 * argon2id, and everything that could act as the user ends in the same transaction — every browser
 * session, codes, access and refresh tokens — so whoever knew the old password keeps nothing.
 * `then` runs inside that transaction (the caller starts the user's fresh session there).
 */
export async function changePassword<T>(
  db: Kysely<DB>,
  userId: string,
  newPassword: string,
  context: { ip: string | null; now: Date },
  then: (trx: Executor) => Promise<T>,
): Promise<T> {
  const passwordHash = await hashPassword(newPassword)
  return db.transaction().execute(async (trx) => {
    await updatePasswordHash(trx, userId, passwordHash)
    const ended = await endUserAccess(trx, userId, context.now)
    await appendAudit(trx, {
      actorId: userId,
      actorKind: 'user',
      action: 'account.password_changed',
      objectType: 'user',
      objectId: userId,
      ip: context.ip,
      details: { ...ended },
    })
    return then(trx)
  })
}

export interface AccountActor {
  userId: string | null
  kind: ActorKind
  ip: string | null
}

/**
 * Disables or enables an account. Disabling ends its sessions, codes and tokens in the same
 * transaction, so every request path refuses them at once without checking a flag (the hot paths
 * keep their round trips). Returns false when the account was so already (nothing audited).
 */
export async function setAccountDisabled(
  db: Kysely<DB>,
  actor: AccountActor,
  userId: string,
  disabled: boolean,
  now = new Date(),
): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await setUserDisabled(trx, userId, disabled ? now : null))) {
      // Disabled already: end access again all the same (nothing is audited). Nothing can be
      // issued to a disabled account meanwhile, so this only sweeps what an old race left.
      if (disabled) await endUserAccess(trx, userId, now)
      return false
    }
    const ended = disabled ? await endUserAccess(trx, userId, now) : undefined
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: actor.kind,
      action: disabled ? 'account.disabled' : 'account.enabled',
      objectType: 'user',
      objectId: userId,
      ip: actor.ip,
      ...(ended ? { details: { ...ended } } : {}),
    })
    return true
  })
}

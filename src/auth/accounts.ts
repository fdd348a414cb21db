// Creating accounts and checking passwords. Inputs arrive validated (see profile/rules.ts).
import { randomUUID } from 'node:crypto'
import type { Executor } from '../storage/database.ts'
import { emailLookupKey, findUserWithPasswordByEmail, insertUser, updatePasswordHash, type User } from '../storage/users.ts'
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
export async function authenticateForAudit(db: Executor, counters: RateLimitStore, email: string, password: string, now = new Date()): Promise<{ user: User | null; targetedUserId: string | null }> {
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
  if (needsRehash(found.passwordHash)) await updatePasswordHash(db, found.user.id, await hashPassword(password))
  return { user: found.user, targetedUserId: found.user.id }
}

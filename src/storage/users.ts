// Accounts. Rows stay here; callers get User objects.
import { sql, type Selectable } from 'kysely'
import type { Executor } from './database.ts'
import type { UsersTable } from './schema.ts'
import { keyring } from '../crypto/keyring.ts'

export interface User {
  id: string
  email: string
  displayName: string
  pictureUrl: string | null
  isAdmin: boolean
  createdAt: Date
}

/** The email is stored sealed (see crypto/keyring.ts); this is where it is opened. */
export function userFromRow(
  row: Pick<Selectable<UsersTable>, 'id' | 'email' | 'display_name' | 'picture_url' | 'is_admin' | 'created_at'>,
): User {
  return {
    id: row.id,
    email: openEmail(row.id, row.email),
    displayName: row.display_name,
    pictureUrl: row.picture_url,
    isAdmin: row.is_admin,
    createdAt: row.created_at,
  }
}

export const emailAad = (userId: string) => `users.email:${userId}`
export const openEmail = (userId: string, sealed: string) => keyring().open(sealed, emailAad(userId))

/** The key an email is looked up by (login ignores case in the whole address). */
export function emailLookupKey(email: string): Buffer {
  return keyring().emailHmac(email)
}

export interface NewUser {
  id: string
  email: string
  passwordHash: string
  displayName: string
  isAdmin?: boolean
}

/** Inserts the account, or returns undefined when the email is taken (no exception to catch). */
export async function insertUser(db: Executor, user: NewUser): Promise<User | undefined> {
  const row = await db
    .insertInto('users')
    .values({
      id: user.id,
      email: keyring().seal(user.email, emailAad(user.id)),
      email_hmac: emailLookupKey(user.email),
      password_hash: user.passwordHash,
      display_name: user.displayName,
      is_admin: user.isAdmin ?? false,
    })
    .onConflict((conflict) => conflict.column('email_hmac').doNothing())
    .returningAll()
    .executeTakeFirst()
  return row && userFromRow(row)
}

export async function findUserWithPasswordByEmail(
  db: Executor,
  email: string,
): Promise<{ user: User; passwordHash: string; disabled: boolean } | undefined> {
  const row = await db.selectFrom('users').selectAll().where('email_hmac', '=', emailLookupKey(email)).executeTakeFirst()
  return row && { user: userFromRow(row), passwordHash: row.password_hash, disabled: row.disabled_at !== null }
}

/**
 * Disables (a date) or enables (null) an account. False when it was so already, so the caller
 * audits only a change.
 */
export async function setUserDisabled(db: Executor, userId: string, disabledAt: Date | null): Promise<boolean> {
  const result = await db
    .updateTable('users')
    .set({ disabled_at: disabledAt, updated_at: new Date() })
    .where('id', '=', userId)
    .where('disabled_at', disabledAt === null ? 'is not' : 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function findUserById(db: Executor, id: string): Promise<User | undefined> {
  const row = await db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst()
  return row && userFromRow(row)
}

export async function updatePasswordHash(db: Executor, userId: string, passwordHash: string): Promise<void> {
  await db.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', userId).execute()
}

export async function updateDisplayName(db: Executor, userId: string, displayName: string): Promise<void> {
  await db.updateTable('users').set({ display_name: displayName, updated_at: new Date() }).where('id', '=', userId).execute()
}

/** Grants or removes the administrator role; removing it revokes the user's API tokens too. */
export async function setAdministrator(db: Executor, userId: string, isAdmin: boolean): Promise<void> {
  await db
    .with('revoked', (qb) =>
      qb
        .updateTable('admin_api_tokens')
        .set({ revoked_at: new Date() })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where(sql<boolean>`${!isAdmin}`)
        .returning('id'),
    )
    .updateTable('users')
    .set({ is_admin: isAdmin, updated_at: new Date() })
    .where('id', '=', userId)
    .execute()
}

/** Whether any enabled account is an administrator (the server's ready message says how to make one). */
export async function hasAdministrator(db: Executor): Promise<boolean> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('is_admin', '=', true)
    .where('disabled_at', 'is', null)
    .limit(1)
    .executeTakeFirst()
  return row !== undefined
}

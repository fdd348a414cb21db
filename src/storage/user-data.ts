// What a user sees and controls of their own data: the channels they granted, where their data
// went, their browser sessions — and unlinking a channel, which ends its grant and tokens at once.
import { sql } from 'kysely'
import type { ProfilePlus } from '../domain/profile.ts'
import type { Executor } from './database.ts'
import { profileFromRow } from './profiles.ts'
import { openEmail } from './users.ts'

export interface AuthorizedApp {
  channelId: string
  channelName: string
  providerName: string
  privacyPolicyUrl: string | null
  grantedItems: string[]
  refusedItems: string[]
  firstUsedAt: Date
  lastUsedAt: Date
}

export async function listAuthorizedApps(db: Executor, userId: string): Promise<AuthorizedApp[]> {
  const rows = await db
    .selectFrom('grants as g')
    .innerJoin('channels as c', 'c.id', 'g.channel_id')
    .innerJoin('providers as p', 'p.id', 'c.provider_id')
    .select([
      'g.channel_id',
      'c.name',
      'p.name as provider_name',
      'c.privacy_policy_url',
      'g.granted_items',
      'g.refused_items',
      'g.created_at',
      'g.last_used_at',
    ])
    .where('g.user_id', '=', userId)
    .orderBy('g.last_used_at', 'desc')
    .execute()
  return rows.map((row) => ({
    channelId: row.channel_id,
    channelName: row.name,
    providerName: row.provider_name,
    privacyPolicyUrl: row.privacy_policy_url,
    grantedItems: row.granted_items,
    refusedItems: row.refused_items,
    firstUsedAt: row.created_at,
    lastUsedAt: row.last_used_at,
  }))
}

/**
 * Unlinks a channel from a user: the grant is deleted, then every access and refresh token and
 * every code of the user for the channel. Two statements, and the order matters: deleting the
 * grant waits for any token issuance holding it (oauth-tokens.ts insertTokens), so the second
 * statement, reading afresh, sees and deletes what that issuance stored; an issuance that comes
 * after finds no grant and stores nothing. Call it inside a transaction. Returns false when there
 * was no grant (already unlinked; its tokens are deleted all the same).
 */
export async function unlinkChannel(db: Executor, userId: string, channelId: string): Promise<boolean> {
  const deleted = await db.deleteFrom('grants').where('user_id', '=', userId).where('channel_id', '=', channelId).executeTakeFirst()
  await sql`
    WITH a AS (DELETE FROM access_tokens WHERE user_id = ${userId} AND channel_id = ${channelId} RETURNING 1),
    r AS (DELETE FROM refresh_tokens WHERE user_id = ${userId} AND channel_id = ${channelId} RETURNING 1)
    DELETE FROM authorization_codes WHERE user_id = ${userId} AND channel_id = ${channelId}`.execute(db)
  return Number(deleted.numDeletedRows) > 0
}

export interface Release {
  id: string
  at: Date
  channelId: string
  channelName: string | null
  items: string[]
}

/** Releases of the user's data (from the audit log), newest first, keyset by audit id. */
export async function listReleases(
  db: Executor,
  userId: string,
  page: { before?: string | undefined; limit: number },
): Promise<{ items: Release[]; next: string | null }> {
  let query = db
    .selectFrom('audit_log as a')
    .leftJoin('channels as c', 'c.id', 'a.object_id')
    .select(['a.id', 'a.at', 'a.object_id', 'c.name', 'a.details'])
    .where('a.actor_id', '=', userId)
    .where('a.action', '=', 'data.released')
    .orderBy('a.id', 'desc')
    .limit(page.limit + 1)
  if (page.before) query = query.where('a.id', '<', page.before)
  const rows = await query.execute()
  const items = rows.slice(0, page.limit).map((row) => ({
    id: String(row.id),
    at: row.at,
    channelId: row.object_id ?? '',
    channelName: row.name,
    items: Array.isArray(row.details.items) ? (row.details.items as string[]) : [],
  }))
  return { items, next: rows.length > page.limit ? items[items.length - 1]!.id : null }
}

export interface BrowserSession {
  id: string
  createdAt: Date
  lastSeenAt: Date
  expiresAt: Date
  ip: string | null
  userAgent: string | null
}

export async function listSessions(db: Executor, userId: string, now: Date): Promise<BrowserSession[]> {
  const rows = await db
    .selectFrom('sessions')
    .select(['id', 'created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'])
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .orderBy('last_seen_at', 'desc')
    .execute()
  return rows.map((row) => ({
    id: row.id,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    ip: row.ip,
    userAgent: row.user_agent,
  }))
}

/** Ends one of the user's sessions (never another user's); false when there was none. */
export async function endUserSession(db: Executor, userId: string, sessionId: string): Promise<boolean> {
  const result = await db.deleteFrom('sessions').where('id', '=', sessionId).where('user_id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Ends every session of the user but `keep`. */
export async function endOtherSessions(db: Executor, userId: string, keep: string): Promise<number> {
  const result = await db.deleteFrom('sessions').where('user_id', '=', userId).where('id', '!=', keep).executeTakeFirst()
  return Number(result.numDeletedRows)
}

/**
 * Ends everything that lets anyone act as the user without their password: every browser session,
 * logins and consents in progress, authorization codes (used ones too: an exchange in flight then
 * finds its code gone), every access and refresh token (revoked, not deleted: the rows stay for
 * the family checks until cleanup) and the user's administrator API tokens. Two statements; the
 * caller's transaction holds them together with the change that called for it, and must have
 * updated the user's row first: that row lock is what token issuance waits on (oauth-tokens.ts
 * insertTokens), so this statement sees every token issued before it. Grants stay: the user's
 * consent to a channel is not a credential.
 */
export async function endUserAccess(
  db: Executor,
  userId: string,
  now: Date,
): Promise<{ sessions: number; accessTokens: number; refreshTokens: number }> {
  // Sessions first, in their own statement: a code being issued for one of them holds it (FOR
  // SHARE) until it commits, so the next statement sees that code too.
  const { rows: ended } = await sql<{ sessions: number }>`
    WITH s AS (DELETE FROM sessions WHERE user_id = ${userId} RETURNING 1)
    SELECT (SELECT count(*) FROM s)::int AS sessions`.execute(db)
  const { rows } = await sql<{ access_tokens: number; refresh_tokens: number }>`
    WITH i AS (DELETE FROM interactions WHERE user_id = ${userId} RETURNING 1),
    c AS (DELETE FROM authorization_codes WHERE user_id = ${userId} RETURNING 1),
    a AS (UPDATE access_tokens SET revoked_at = ${now} WHERE user_id = ${userId} AND revoked_at IS NULL RETURNING 1),
    r AS (UPDATE refresh_tokens SET revoked_at = ${now} WHERE user_id = ${userId} AND revoked_at IS NULL RETURNING 1),
    t AS (UPDATE admin_api_tokens SET revoked_at = ${now} WHERE user_id = ${userId} AND revoked_at IS NULL RETURNING 1)
    SELECT (SELECT count(*) FROM a)::int AS access_tokens, (SELECT count(*) FROM r)::int AS refresh_tokens,
           (SELECT count(*) FROM i)::int AS interactions, (SELECT count(*) FROM c)::int AS codes, (SELECT count(*) FROM t)::int AS admin_tokens`.execute(
    db,
  )
  const row = rows[0]!
  return { sessions: ended[0]!.sessions, accessTokens: row.access_tokens, refreshTokens: row.refresh_tokens }
}

export interface UserDataExport {
  account: { id: string; email: string; name: string; pictureUrl: string | null; isAdmin: boolean; createdAt: Date; updatedAt: Date }
  /** The Profile+ data, opened, with when it last changed; null when the user never saved any. */
  profile: { values: ProfilePlus; updatedAt: Date } | null
  apps: AuthorizedApp[]
  memberships: { providerName: string; role: string; since: Date }[]
  sessions: { createdAt: Date; lastSeenAt: Date; expiresAt: Date; ip: string | null; userAgent: string | null }[]
  releases: Release[]
}

/** Everything plusid holds about a user, for the export (sealed values opened; sessions without secrets). */
export async function exportUserData(db: Executor, userId: string): Promise<UserDataExport> {
  const [account, profile, apps, memberships, sessions] = await Promise.all([
    db
      .selectFrom('users')
      .select(['id', 'email', 'display_name', 'picture_url', 'is_admin', 'created_at', 'updated_at'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow(),
    db.selectFrom('profiles').selectAll().where('user_id', '=', userId).executeTakeFirst(),
    listAuthorizedApps(db, userId),
    db
      .selectFrom('provider_members as m')
      .innerJoin('providers as p', 'p.id', 'm.provider_id')
      .select(['p.name', 'm.role', 'm.created_at'])
      .where('m.user_id', '=', userId)
      .execute(),
    db
      .selectFrom('sessions')
      .select(['created_at', 'last_seen_at', 'expires_at', 'ip', 'user_agent'])
      .where('user_id', '=', userId)
      .execute(),
  ])
  const releases: Release[] = []
  let before: string | undefined
  do {
    const page = await listReleases(db, userId, { before, limit: 1000 })
    releases.push(...page.items)
    before = page.next ?? undefined
  } while (before)
  return {
    account: {
      id: account.id,
      email: openEmail(account.id, account.email),
      name: account.display_name,
      pictureUrl: account.picture_url,
      isAdmin: account.is_admin,
      createdAt: account.created_at,
      updatedAt: account.updated_at,
    },
    profile: profile ? { values: profileFromRow(profile, account.id), updatedAt: profile.updated_at } : null,
    apps,
    memberships: memberships.map((m) => ({ providerName: m.name, role: m.role, since: m.created_at })),
    sessions: sessions.map((s) => ({
      createdAt: s.created_at,
      lastSeenAt: s.last_seen_at,
      expiresAt: s.expires_at,
      ip: s.ip,
      userAgent: s.user_agent,
    })),
    releases,
  }
}

/** Deletes the account; every row that references it goes with it (foreign keys cascade). */
export async function deleteUser(db: Executor, userId: string): Promise<boolean> {
  const result = await db.deleteFrom('users').where('id', '=', userId).executeTakeFirst()
  return Number(result.numDeletedRows) === 1
}

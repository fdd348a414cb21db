// What the developer console and the administration pages read and change: providers, members,
// testers, channel settings, secrets, suspension, and keyset-paginated searches.
import { randomBytes, randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Executor } from './database.ts'
import { keyring } from '../crypto/keyring.ts'
import { emailLookupKey, openEmail, userFromRow, type User } from './users.ts'

export type Role = 'owner' | 'developer'

export interface ProviderSummary {
  id: string
  name: string
  role: Role
}

/** Creates a provider with its creator as owner; undefined when the name is taken. */
export async function createProvider(db: Executor, name: string, ownerId: string): Promise<string | undefined> {
  const id = randomUUID()
  const inserted = await db
    .insertInto('providers')
    .values({ id, name, pairwise_secret: keyring().sealPairwiseSecret(randomBytes(32)) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .returning('id')
    .executeTakeFirst()
  if (!inserted) return undefined
  await db.insertInto('provider_members').values({ provider_id: id, user_id: ownerId, role: 'owner' }).execute()
  return id
}

export async function listUserProviders(db: Executor, userId: string): Promise<ProviderSummary[]> {
  const rows = await db
    .selectFrom('provider_members as m')
    .innerJoin('providers as p', 'p.id', 'm.provider_id')
    .select(['p.id', 'p.name', 'm.role'])
    .where('m.user_id', '=', userId)
    .orderBy('p.name')
    .execute()
  return rows
}

/** The user's role in the provider, or null when they are not a member. */
export async function findMembership(
  db: Executor,
  providerId: string,
  userId: string,
): Promise<{ providerName: string; role: Role } | null> {
  if (!/^[0-9a-f-]{36}$/.test(providerId)) return null
  const row = await db
    .selectFrom('provider_members as m')
    .innerJoin('providers as p', 'p.id', 'm.provider_id')
    .select(['p.name', 'm.role'])
    .where('m.provider_id', '=', providerId)
    .where('m.user_id', '=', userId)
    .executeTakeFirst()
  return row ? { providerName: row.name, role: row.role } : null
}

export async function listMembers(
  db: Executor,
  providerId: string,
): Promise<{ userId: string; email: string; displayName: string; role: Role }[]> {
  const rows = await db
    .selectFrom('provider_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email', 'u.display_name', 'm.role'])
    .where('m.provider_id', '=', providerId)
    .execute()
  // Emails are sealed: sorted once opened.
  return rows
    .map((row) => ({ userId: row.id, email: openEmail(row.id, row.email), displayName: row.display_name, role: row.role }))
    .sort((a, b) => a.email.localeCompare(b.email))
}

export interface ChannelSummary {
  id: string
  name: string
  kind: string
  status: string
  suspendedAt: Date | null
}

export async function listProviderChannels(db: Executor, providerId: string): Promise<ChannelSummary[]> {
  const rows = await db
    .selectFrom('channels')
    .select(['id', 'name', 'kind', 'status', 'suspended_at'])
    .where('provider_id', '=', providerId)
    .orderBy('name')
    .execute()
  return rows.map((row) => ({ id: row.id, name: row.name, kind: row.kind, status: row.status, suspendedAt: row.suspended_at }))
}

export interface ChannelSettings {
  name: string
  description: string
  iconUrl: string | null
  privacyPolicyUrl: string | null
  callbackUrls: string[]
  logoutUrls: string[]
  idTokenAlg: 'ES256' | 'RS256' | 'HS256'
  errorStyle: 'rfc' | 'line'
}

export async function updateChannelSettings(
  db: Executor,
  channelId: string,
  settings: ChannelSettings,
  sealedSecret?: string | null,
): Promise<void> {
  await db
    .updateTable('channels')
    .set({
      name: settings.name,
      description: settings.description,
      icon_url: settings.iconUrl,
      privacy_policy_url: settings.privacyPolicyUrl,
      callback_urls: settings.callbackUrls,
      logout_urls: settings.logoutUrls,
      id_token_alg: settings.idTokenAlg,
      error_style: settings.errorStyle,
      ...(sealedSecret !== undefined ? { secret_encrypted: sealedSecret } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', channelId)
    .execute()
}

/** A new secret; `idTokenAlg` switches the channel's algorithm with it (to HS256, keyed by it). */
export async function replaceChannelSecret(
  db: Executor,
  channelId: string,
  secretHash: Uint8Array,
  sealedSecret: string | null,
  idTokenAlg?: 'HS256',
): Promise<void> {
  await db
    .updateTable('channels')
    .set({
      secret_hash: secretHash,
      secret_encrypted: sealedSecret,
      ...(idTokenAlg ? { id_token_alg: idTokenAlg } : {}),
      updated_at: new Date(),
    })
    .where('id', '=', channelId)
    .execute()
}

/** Keeps a new secret, sealed, for the one page view that shows it to the user who asked. */
export async function insertSecretReveal(
  db: Executor,
  reveal: { id: string; channelId: string; userId: string; sealedSecret: string; expiresAt: Date },
): Promise<void> {
  await db
    .insertInto('channel_secret_reveals')
    .values({
      id: reveal.id,
      channel_id: reveal.channelId,
      user_id: reveal.userId,
      sealed_secret: reveal.sealedSecret,
      expires_at: reveal.expiresAt,
    })
    .execute()
}

/**
 * The sealed secret of an unexpired reveal of this channel for this user, deleted in the same
 * statement: of two requests for it (a reload, a double click) only one gets it.
 */
export async function takeSecretReveal(
  db: Executor,
  id: string,
  channelId: string,
  userId: string,
  now: Date,
): Promise<string | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined
  const row = await db
    .deleteFrom('channel_secret_reveals')
    .where('id', '=', id)
    .where('channel_id', '=', channelId)
    .where('user_id', '=', userId)
    .where('expires_at', '>', now)
    .returning('sealed_secret')
    .executeTakeFirst()
  return row?.sealed_secret
}

export async function deleteExpiredSecretReveals(db: Executor, now: Date, batchSize: number): Promise<number> {
  const result =
    await sql`DELETE FROM channel_secret_reveals WHERE id IN (SELECT id FROM channel_secret_reveals WHERE expires_at <= ${now} LIMIT ${batchSize})`.execute(
      db,
    )
  return Number(result.numAffectedRows ?? 0)
}

export async function publishChannel(db: Executor, channelId: string): Promise<void> {
  await db.updateTable('channels').set({ status: 'published', updated_at: new Date() }).where('id', '=', channelId).execute()
}

export async function setChannelSuspension(db: Executor, channelId: string, suspended: { at: Date; reason: string } | null): Promise<void> {
  await db
    .updateTable('channels')
    .set({ suspended_at: suspended?.at ?? null, suspended_reason: suspended?.reason ?? null, updated_at: new Date() })
    .where('id', '=', channelId)
    .execute()
}

export async function listTesters(db: Executor, channelId: string): Promise<{ userId: string; email: string }[]> {
  const rows = await db
    .selectFrom('channel_testers as t')
    .innerJoin('users as u', 'u.id', 't.user_id')
    .select(['u.id', 'u.email'])
    .where('t.channel_id', '=', channelId)
    .execute()
  return rows.map((row) => ({ userId: row.id, email: openEmail(row.id, row.email) })).sort((a, b) => a.email.localeCompare(b.email))
}

export async function listChannelOwners(db: Executor, providerId: string): Promise<string[]> {
  const rows = await db
    .selectFrom('provider_members as m')
    .innerJoin('users as u', 'u.id', 'm.user_id')
    .select(['u.id', 'u.email'])
    .where('m.provider_id', '=', providerId)
    .where('m.role', '=', 'owner')
    .execute()
  return rows.map((row) => openEmail(row.id, row.email)).sort()
}

const likePrefix = (text: string) => `${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`

export type UserCursor = { createdAt: Date; id: string }
export type ChannelCursor = { createdAt: Date; id: string } | { name: string; id: string }

/**
 * Users newest first (keyset pagination: an index range, never an offset or a count), or the one
 * account with exactly this email: emails are sealed, so they are found by their lookup HMAC and
 * cannot be searched by prefix.
 */
export async function searchUsers(
  db: Executor,
  query: string,
  page: { after?: UserCursor | undefined; limit: number },
): Promise<(User & { disabledAt: Date | null })[]> {
  let q = db
    .selectFrom('users')
    .select(['id', 'email', 'display_name', 'picture_url', 'is_admin', 'created_at', 'disabled_at'])
    .limit(page.limit)
  const after = page.after
  if (query) {
    q = q.where('email_hmac', '=', emailLookupKey(query))
  } else {
    q = q.orderBy('created_at', 'desc').orderBy('id', 'desc')
    if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'id'), '<', eb.tuple(after.createdAt, after.id)))
  }
  return (await q.execute()).map((row) => ({ ...userFromRow(row), disabledAt: row.disabled_at }))
}

/** Channels newest first, or the one with that id, or those whose name starts with `query` (name order). */
export async function searchChannels(db: Executor, query: string, page: { after?: ChannelCursor | undefined; limit: number }) {
  const name = sql<string>`lower(c.name) COLLATE "C"`
  let q = db
    .selectFrom('channels as c')
    .innerJoin('providers as p', 'p.id', 'c.provider_id')
    .select(['c.id', 'c.name', 'c.kind', 'c.status', 'c.suspended_at', 'c.created_at', 'p.name as provider_name'])
    .select(sql<string>`lower(c.name)`.as('name_key'))
    .limit(page.limit)
  const after = page.after
  if (/^\d{10}$/.test(query)) q = q.where('c.id', '=', query)
  else if (query) {
    q = q.where(name, 'like', likePrefix(query.toLowerCase())).orderBy(name).orderBy('c.id')
    if (after && 'name' in after) q = q.where((eb) => eb(eb.tuple(name, eb.ref('c.id')), '>', eb.tuple(after.name, after.id)))
  } else {
    q = q.orderBy('c.created_at', 'desc').orderBy('c.id', 'desc')
    if (after && 'createdAt' in after)
      q = q.where((eb) => eb(eb.refTuple('c.created_at', 'c.id'), '<', eb.tuple(after.createdAt, after.id)))
  }
  return q.execute()
}

export async function findProviderName(db: Executor, providerId: string): Promise<string | undefined> {
  const row = await db.selectFrom('providers').select('name').where('id', '=', providerId).executeTakeFirst()
  return row?.name
}

// Providers, their members, channels (OAuth clients), testers and per-item permissions.
import { randomBytes, randomInt, randomUUID } from 'node:crypto'
import { sql, type Selectable } from 'kysely'
import type { Executor } from './database.ts'
import { isSealedPairwiseSecret, keyring } from '../crypto/keyring.ts'
import type { ChannelsTable } from './schema.ts'

export type ChannelKind = 'web' | 'spa' | 'native'
export type IdTokenAlg = 'ES256' | 'RS256' | 'HS256'

export interface Channel {
  id: string
  providerId: string
  name: string
  description: string
  iconUrl: string | null
  privacyPolicyUrl: string | null
  kind: ChannelKind
  callbackUrls: string[]
  /** Where RP-initiated logout may return to (exact match), a list apart from the callbacks. */
  logoutUrls: string[]
  idTokenAlg: IdTokenAlg
  status: 'developing' | 'published'
  errorStyle: 'rfc' | 'line'
  requirePkce: boolean
  secretHash: Uint8Array | null
  secretEncrypted: string | null
  /** spa and native channels cannot keep a secret (RFC 6749 §2.1). */
  isPublic: boolean
  /** Items whose permission is approved (not applied, rejected or suspended). */
  approvedItems: string[]
  /** The provider's secret for pairwise subject identifiers. */
  pairwiseSecret: Uint8Array
  /** Set by an administrator: no authorization, code exchange or refresh until lifted. */
  suspendedAt: Date | null
}

// Reads that do not need the logout URLs (the token paths) may leave them out.
export type ChannelRow = Omit<Selectable<ChannelsTable>, 'logout_urls'> & { logout_urls?: string[] } & {
  approved_items: string[] | null
  pairwise_secret: Uint8Array
}

export function channelFromRow(row: ChannelRow): Channel {
  return {
    id: row.id,
    providerId: row.provider_id,
    name: row.name,
    description: row.description,
    iconUrl: row.icon_url,
    privacyPolicyUrl: row.privacy_policy_url,
    kind: row.kind,
    callbackUrls: row.callback_urls,
    logoutUrls: row.logout_urls ?? [],
    idTokenAlg: row.id_token_alg,
    status: row.status,
    errorStyle: row.error_style,
    requirePkce: row.require_pkce,
    secretHash: row.secret_hash,
    secretEncrypted: row.secret_encrypted,
    isPublic: row.kind !== 'web',
    approvedItems: row.approved_items ?? [],
    pairwiseSecret: keyring().openPairwiseSecret(row.pairwise_secret),
    suspendedAt: row.suspended_at ?? null,
  }
}

/** The channel with its approved items and its provider's pairwise secret, in one round trip. */
export async function findChannel(db: Executor, id: string): Promise<Channel | undefined> {
  if (!/^\d{10}$/.test(id)) return undefined
  const row = await db
    .selectFrom('channels')
    .innerJoin('providers', 'providers.id', 'channels.provider_id')
    .selectAll('channels')
    .select('providers.pairwise_secret')
    .select(
      sql<
        string[] | null
      >`(SELECT array_agg(p.item ORDER BY p.item) FROM channel_permissions p WHERE p.channel_id = channels.id AND p.state = 'approved')`.as(
        'approved_items',
      ),
    )
    .where('channels.id', '=', id)
    .executeTakeFirst()
  return row && channelFromRow(row)
}

/** The provider of this name, created (with a fresh pairwise secret) when there is none. */
export async function ensureProvider(db: Executor, name: string): Promise<string> {
  await db
    .insertInto('providers')
    .values({ id: randomUUID(), name, pairwise_secret: keyring().sealPairwiseSecret(randomBytes(32)) })
    .onConflict((conflict) => conflict.column('name').doNothing())
    .execute()
  const row = await db.selectFrom('providers').select('id').where('name', '=', name).executeTakeFirstOrThrow()
  return row.id
}

export async function addProviderMember(db: Executor, providerId: string, userId: string, role: 'owner' | 'developer'): Promise<void> {
  await db
    .insertInto('provider_members')
    .values({ provider_id: providerId, user_id: userId, role })
    .onConflict((conflict) => conflict.columns(['provider_id', 'user_id']).doUpdateSet({ role }))
    .execute()
}

export async function addChannelTester(db: Executor, channelId: string, userId: string): Promise<void> {
  await db
    .insertInto('channel_testers')
    .values({ channel_id: channelId, user_id: userId })
    .onConflict((c) => c.doNothing())
    .execute()
}

export interface NewChannel {
  providerId: string
  name: string
  kind: ChannelKind
  callbackUrls: string[]
  logoutUrls: string[]
  idTokenAlg: IdTokenAlg
  status: 'developing' | 'published'
  errorStyle: 'rfc' | 'line'
  secretHash: Uint8Array | null
  /** Given the channel id, the sealed secret (HS256 channels) or null. */
  sealSecret: (channelId: string) => string | null
}

/** Inserts the channel under a fresh random 10-digit id (retried on the rare collision). */
export async function insertChannel(db: Executor, channel: NewChannel): Promise<string> {
  for (let attempt = 0; attempt < 5; attempt++) {
    const id = String(randomInt(1_000_000_000, 10_000_000_000))
    const inserted = await db
      .insertInto('channels')
      .values({
        id,
        provider_id: channel.providerId,
        name: channel.name,
        kind: channel.kind,
        callback_urls: channel.callbackUrls,
        logout_urls: channel.logoutUrls,
        id_token_alg: channel.idTokenAlg,
        status: channel.status,
        error_style: channel.errorStyle,
        secret_hash: channel.secretHash,
        secret_encrypted: channel.sealSecret(id),
      })
      .onConflict((conflict) => conflict.column('id').doNothing())
      .returning('id')
      .executeTakeFirst()
    if (inserted) return inserted.id
  }
  throw new Error('could not find a free channel id')
}

export async function setPermissions(
  db: Executor,
  channelId: string,
  items: readonly string[],
  state: 'approved' | 'applied' | 'rejected' | 'suspended',
): Promise<void> {
  if (items.length === 0) return
  const now = new Date()
  await db
    .insertInto('channel_permissions')
    .values(items.map((item) => ({ channel_id: channelId, item, state, updated_at: now })))
    .onConflict((conflict) => conflict.columns(['channel_id', 'item']).doUpdateSet({ state, updated_at: now }))
    .execute()
}

/** Whether the user may log in to a channel in status developing: a provider member or a tester. */
export async function mayUseDevelopingChannel(db: Executor, channel: Pick<Channel, 'id' | 'providerId'>, userId: string): Promise<boolean> {
  const row = await db
    .selectNoFrom((eb) => [
      eb
        .or([
          eb.exists(
            eb.selectFrom('provider_members').select('user_id').where('provider_id', '=', channel.providerId).where('user_id', '=', userId),
          ),
          eb.exists(eb.selectFrom('channel_testers').select('user_id').where('channel_id', '=', channel.id).where('user_id', '=', userId)),
        ])
        .as('allowed'),
    ])
    .executeTakeFirstOrThrow()
  return Boolean(row.allowed)
}

/**
 * Seals the pairwise secrets still stored in clear (providers made before they were sealed), one
 * row at a time, each only if still in clear, so processes starting together do not clash.
 */
export async function sealClearPairwiseSecrets(db: Executor): Promise<number> {
  const rows = await db.selectFrom('providers').select(['id', 'pairwise_secret']).execute()
  let sealed = 0
  for (const row of rows) {
    if (isSealedPairwiseSecret(row.pairwise_secret)) continue
    const result = await db
      .updateTable('providers')
      .set({ pairwise_secret: keyring().sealPairwiseSecret(row.pairwise_secret) })
      .where('id', '=', row.id)
      .where('pairwise_secret', '=', Buffer.from(row.pairwise_secret))
      .executeTakeFirst()
    sealed += Number(result.numUpdatedRows)
  }
  return sealed
}

/** Every callback URL of every spa channel: their origins may call the protocol from a browser. */
export async function listSpaCallbackUrls(db: Executor): Promise<string[]> {
  const rows = await db.selectFrom('channels').select('callback_urls').where('kind', '=', 'spa').execute()
  return rows.flatMap((row) => row.callback_urls)
}

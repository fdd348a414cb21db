// Authorization codes, access tokens, refresh tokens and channel access tokens — all stored by
// the SHA-256 of the value the client holds. The hot paths read what they need in one round trip.
import { sql } from 'kysely'
import type { ClaimSource } from '../oauth/claims.ts'
import type { Executor } from './database.ts'
import { keyring } from '../crypto/keyring.ts'
import { profileFromRow, type ProfileColumns } from './profiles.ts'
import { channelFromRow, findChannel, type Channel, type ChannelRow } from './channels.ts'
import type { AuditEvent } from './audit.ts'
import { openEmail } from './users.ts'

const PROFILE_COLUMNS = sql.raw(
  'p.family_name, p.given_name, p.middle_name, p.family_name_pronunciation, p.given_name_pronunciation, p.gender, p.birthdate, p.phone_number, p.postal_code, p.region, p.locality, p.street_address, p.country',
)

type UserColumns = { email: string; display_name: string; picture_url: string | null } & ProfileColumns

/** The claims a token's scopes can release, decrypting only those (email is '' unless in scope). */
function claimSource(row: UserColumns & { user_id: string; scopes: string[] }): ClaimSource {
  return {
    email: row.scopes.includes('email') ? openEmail(row.user_id, row.email) : '',
    displayName: row.display_name,
    pictureUrl: row.picture_url,
    profile: profileFromRow(row, row.user_id, row.scopes),
  }
}

export interface AuthorizationCode {
  channelId: string
  userId: string
  redirectUri: string
  scopes: string[]
  nonce: string | null
  codeChallenge: string | null
  authTime: Date
  amr: string[]
  tokenFamily: string
  expiresAt: Date
}

/** Stores a code and marks the grant as used now, in one statement. */
export async function insertAuthorizationCode(db: Executor, codeHash: Uint8Array, code: AuthorizationCode): Promise<void> {
  await db
    .with('touched', (qb) =>
      qb.updateTable('grants').set({ last_used_at: new Date() }).where('user_id', '=', code.userId).where('channel_id', '=', code.channelId).returning('user_id'),
    )
    .insertInto('authorization_codes')
    .values({
      code_hash: codeHash,
      channel_id: code.channelId,
      user_id: code.userId,
      redirect_uri: code.redirectUri,
      scopes: code.scopes,
      nonce: code.nonce,
      code_challenge: code.codeChallenge,
      auth_time: code.authTime,
      amr: code.amr,
      token_family: code.tokenFamily,
      expires_at: code.expiresAt,
    })
    .execute()
}

export type CodeClaim =
  | { status: 'claimed'; code: AuthorizationCode; user: ClaimSource; channel: Channel }
  | { status: 'reused'; tokenFamily: string; channel: Channel | undefined }
  | { status: 'unknown'; channel: Channel | undefined }

const CHANNEL_COLUMNS = sql.raw(`ch.id AS ch_id, ch.provider_id AS ch_provider_id, ch.name AS ch_name, ch.description AS ch_description,
  ch.icon_url AS ch_icon_url, ch.privacy_policy_url AS ch_privacy_policy_url, ch.kind AS ch_kind, ch.callback_urls AS ch_callback_urls,
  ch.id_token_alg AS ch_id_token_alg, ch.status AS ch_status, ch.error_style AS ch_error_style, ch.require_pkce AS ch_require_pkce,
  ch.secret_hash AS ch_secret_hash, ch.secret_encrypted AS ch_secret_encrypted, ch.created_at AS ch_created_at, ch.updated_at AS ch_updated_at,
  ch.suspended_at AS ch_suspended_at, ch.suspended_reason AS ch_suspended_reason,
  pr.pairwise_secret AS ch_pairwise_secret,
  (SELECT array_agg(cp.item ORDER BY cp.item) FROM channel_permissions cp WHERE cp.channel_id = ch.id AND cp.state = 'approved') AS ch_approved_items`)

/** The channel columns of a row selected with CHANNEL_COLUMNS (prefixed ch_). */
function prefixedChannel(row: Record<string, unknown>): Channel {
  const unprefixed = Object.fromEntries(Object.entries(row).filter(([key]) => key.startsWith('ch_')).map(([key, value]) => [key.slice(3), value]))
  return channelFromRow(unprefixed as unknown as ChannelRow)
}

/**
 * Marks the code used and returns it with its user's claims and the presenting channel, in one
 * committed statement: a check failing afterwards (client secret, PKCE, redirect_uri) still
 * leaves the code burnt. A code used before answers `reused` with the family of tokens it issued,
 * to be revoked. The code is only burnt when `clientId` names a channel.
 */
export async function claimAuthorizationCode(db: Executor, codeHash: Uint8Array, clientId: string, now: Date): Promise<CodeClaim> {
  const claimed = await sql<Record<string, unknown> & UserColumns>`
    UPDATE authorization_codes c SET consumed_at = ${now}
    FROM users u LEFT JOIN profiles p ON p.user_id = u.id, channels ch JOIN providers pr ON pr.id = ch.provider_id
    WHERE c.code_hash = ${codeHash} AND c.consumed_at IS NULL AND u.id = c.user_id AND ch.id = ${clientId}
    RETURNING c.channel_id, c.user_id, c.redirect_uri, c.scopes, c.nonce, c.code_challenge, c.auth_time, c.amr,
              c.token_family, c.expires_at, u.email, u.display_name, u.picture_url, ${PROFILE_COLUMNS}, ${CHANNEL_COLUMNS}`.execute(db)
  const row = claimed.rows[0]
  if (row) {
    return {
      status: 'claimed',
      channel: prefixedChannel(row),
      code: {
        channelId: row.channel_id as string,
        userId: row.user_id as string,
        redirectUri: row.redirect_uri as string,
        scopes: row.scopes as string[],
        nonce: row.nonce as string | null,
        codeChallenge: row.code_challenge as string | null,
        authTime: row.auth_time as Date,
        amr: row.amr as string[],
        tokenFamily: row.token_family as string,
        expiresAt: row.expires_at as Date,
      },
      user: claimSource(row as typeof row & { user_id: string; scopes: string[] }),
    }
  }
  // Not claimed: an unknown channel, an unknown code, or a code used before.
  const [channel, used] = await Promise.all([
    findChannel(db, clientId),
    db.selectFrom('authorization_codes').select('token_family').where('code_hash', '=', codeHash).executeTakeFirst(),
  ])
  return used && channel ? { status: 'reused', tokenFamily: used.token_family, channel } : { status: 'unknown', channel }
}

export interface NewTokens {
  family: string
  channelId: string
  userId: string
  scopes: string[]
  accessTokenHash: Uint8Array
  accessExpiresAt: Date
  /** Absent when the refresh token is kept (confidential channels refresh without rotation). */
  refresh?: { hash: Uint8Array; expiresAt: Date; authTime: Date; amr: string[] }
  /** The audit entry of this issuance (a release of personal data), written in the same statement. */
  audit?: AuditEvent
}

/** Stores an access token, a refresh token and the audit entry when given: one statement, one round trip. */
export async function insertTokens(db: Executor, tokens: NewTokens): Promise<void> {
  const refresh = tokens.refresh
  const audit = tokens.audit
  await sql`
    WITH access AS (
      INSERT INTO access_tokens (token_hash, token_family, channel_id, user_id, scopes, expires_at)
      VALUES (${tokens.accessTokenHash}, ${tokens.family}, ${tokens.channelId}, ${tokens.userId}, ${tokens.scopes}::text[], ${tokens.accessExpiresAt})
      RETURNING 1),
    refresh AS (
      INSERT INTO refresh_tokens (token_hash, token_family, channel_id, user_id, scopes, auth_time, amr, expires_at)
      SELECT ${refresh?.hash ?? null}::bytea, ${tokens.family}, ${tokens.channelId}, ${tokens.userId}, ${tokens.scopes}::text[],
             ${refresh?.authTime ?? null}::timestamptz, ${refresh?.amr ?? null}::text[], ${refresh?.expiresAt ?? null}::timestamptz
      WHERE ${refresh !== undefined}
      RETURNING 1),
    audited AS (
      INSERT INTO audit_log (actor_id, actor_kind, action, object_type, object_id, ip, details)
      SELECT ${audit?.actorId ?? null}::uuid, ${audit?.actorKind ?? 'channel'}, ${audit?.action ?? ''}, ${audit?.objectType ?? null}, ${audit?.objectId ?? null},
             ${audit?.ip ?? null}, ${JSON.stringify(audit?.details ?? {})}::jsonb
      WHERE ${audit !== undefined}
      RETURNING 1)
    SELECT 1`.execute(db)
}

/** Revokes every access and refresh token of a family (code reuse, refresh token reuse, revoke). */
export async function revokeTokenFamily(db: Executor, family: string, now: Date): Promise<void> {
  await db
    .with('access', (qb) => qb.updateTable('access_tokens').set({ revoked_at: now }).where('token_family', '=', family).where('revoked_at', 'is', null).returning('token_family'))
    .updateTable('refresh_tokens')
    .set({ revoked_at: now })
    .where('token_family', '=', family)
    .where('revoked_at', 'is', null)
    .execute()
}

export interface AccessTokenRecord {
  channelId: string
  userId: string
  scopes: string[]
  family: string
  createdAt: Date
  expiresAt: Date
  revokedAt: Date | null
  pairwiseSecret: Uint8Array
  user: ClaimSource
  /** The channel's items approved now (a suspended permission stops releasing at once). */
  approvedItems: string[]
  channelSuspended: boolean
}

/** The token, its channel's pairwise secret and its user's claims, in one round trip (userinfo). */
export async function findAccessToken(db: Executor, tokenHash: Uint8Array): Promise<AccessTokenRecord | undefined> {
  const result = await sql<Record<string, unknown> & UserColumns>`
    SELECT a.channel_id, a.user_id, a.scopes, a.token_family, a.created_at, a.expires_at, a.revoked_at, pr.pairwise_secret,
           c.suspended_at IS NOT NULL AS channel_suspended,
           (SELECT array_agg(cp.item) FROM channel_permissions cp WHERE cp.channel_id = c.id AND cp.state = 'approved') AS approved_items,
           u.email, u.display_name, u.picture_url, ${PROFILE_COLUMNS}
    FROM access_tokens a
    JOIN channels c ON c.id = a.channel_id
    JOIN providers pr ON pr.id = c.provider_id
    JOIN users u ON u.id = a.user_id
    LEFT JOIN profiles p ON p.user_id = a.user_id
    WHERE a.token_hash = ${tokenHash}`.execute(db)
  const row = result.rows[0]
  if (!row) return undefined
  return {
    channelId: row.channel_id as string,
    userId: row.user_id as string,
    scopes: row.scopes as string[],
    family: row.token_family as string,
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
    revokedAt: row.revoked_at as Date | null,
    pairwiseSecret: keyring().openPairwiseSecret(row.pairwise_secret as Uint8Array),
    user: claimSource(row as typeof row & { user_id: string; scopes: string[] }),
    approvedItems: (row.approved_items as string[] | null) ?? [],
    channelSuspended: row.channel_suspended as boolean,
  }
}

export async function revokeAccessToken(db: Executor, tokenHash: Uint8Array, channelId: string, now: Date): Promise<void> {
  await db.updateTable('access_tokens').set({ revoked_at: now }).where('token_hash', '=', tokenHash).where('channel_id', '=', channelId).where('revoked_at', 'is', null).execute()
}

export interface RefreshTokenRecord {
  family: string
  channelId: string
  userId: string
  scopes: string[]
  authTime: Date
  amr: string[]
  createdAt: Date
  expiresAt: Date
  consumedAt: Date | null
  revokedAt: Date | null
}

/** The channel of `clientId` and, if it holds it, the refresh token: one round trip for the refresh grant. */
export async function findChannelWithRefreshToken(db: Executor, clientId: string, tokenHash: Uint8Array): Promise<{ channel: Channel; token: RefreshTokenRecord | undefined } | undefined> {
  if (!/^\d{10}$/.test(clientId)) return undefined
  const { rows } = await sql<Record<string, unknown>>`
    SELECT ${CHANNEL_COLUMNS}, rt.token_family, rt.user_id, rt.scopes, rt.auth_time, rt.amr, rt.created_at, rt.expires_at, rt.consumed_at, rt.revoked_at
    FROM channels ch
    JOIN providers pr ON pr.id = ch.provider_id
    LEFT JOIN refresh_tokens rt ON rt.token_hash = ${tokenHash} AND rt.channel_id = ch.id
    WHERE ch.id = ${clientId}`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  return {
    channel: prefixedChannel(row),
    token:
      row.token_family === null
        ? undefined
        : {
            family: row.token_family as string,
            channelId: row.ch_id as string,
            userId: row.user_id as string,
            scopes: row.scopes as string[],
            authTime: row.auth_time as Date,
            amr: row.amr as string[],
            createdAt: row.created_at as Date,
            expiresAt: row.expires_at as Date,
            consumedAt: row.consumed_at as Date | null,
            revokedAt: row.revoked_at as Date | null,
          },
  }
}

export async function findRefreshToken(db: Executor, tokenHash: Uint8Array): Promise<RefreshTokenRecord | undefined> {
  const row = await db.selectFrom('refresh_tokens').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst()
  return (
    row && {
      family: row.token_family,
      channelId: row.channel_id,
      userId: row.user_id,
      scopes: row.scopes,
      authTime: row.auth_time,
      amr: row.amr,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      consumedAt: row.consumed_at,
      revokedAt: row.revoked_at,
    }
  )
}

/** Marks a refresh token consumed (rotation); false when another request consumed it first. */
export async function consumeRefreshToken(db: Executor, tokenHash: Uint8Array, now: Date): Promise<boolean> {
  const result = await db
    .updateTable('refresh_tokens')
    .set({ consumed_at: now })
    .where('token_hash', '=', tokenHash)
    .where('consumed_at', 'is', null)
    .where('revoked_at', 'is', null)
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

export async function insertChannelAccessToken(db: Executor, tokenHash: Uint8Array, channelId: string, expiresAt: Date): Promise<void> {
  await db.insertInto('channel_access_tokens').values({ token_hash: tokenHash, channel_id: channelId, expires_at: expiresAt }).execute()
}

export async function findChannelAccessToken(db: Executor, tokenHash: Uint8Array): Promise<{ channelId: string; expiresAt: Date } | undefined> {
  const row = await db.selectFrom('channel_access_tokens').select(['channel_id', 'expires_at']).where('token_hash', '=', tokenHash).executeTakeFirst()
  return row && { channelId: row.channel_id, expiresAt: row.expires_at }
}

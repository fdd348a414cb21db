// Authorization codes, access tokens, refresh tokens and channel access tokens — all stored by
// the SHA-256 of the value the client holds. The hot paths read what they need in one round trip.
import { sql } from 'kysely'
import type { ClaimSource, ReleaseState } from '../domain/release.ts'
import type { Executor } from './database.ts'
import { keyring } from '../crypto/keyring.ts'
import { profileFromRow, profileSelect, type ProfileColumns } from './profiles.ts'
import { channelFromRow, findChannel, type Channel, type ChannelRow } from './channels.ts'
import type { AuditEvent } from './audit.ts'
import { openEmail } from './users.ts'
import { isDataItem } from '../domain/profile.ts'

// The Profile+ columns of the profiles row (joined as p), from the item registry.
const PROFILE_SELECT = profileSelect('p')

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

/**
 * Stores a code and marks the grant as used now, in one statement — only while the browser
 * session it is issued for still exists. The session row is locked (FOR SHARE): a password change
 * or a disable deletes the user's sessions before it deletes their codes (user-data.ts
 * endUserAccess), so it either waits for this code and then deletes it, or this statement finds
 * the session gone and stores nothing. False then.
 */
export async function insertAuthorizationCode(
  db: Executor,
  codeHash: Uint8Array,
  code: AuthorizationCode,
  sessionId: string,
): Promise<boolean> {
  const { rows } = await sql<{ issued: boolean }>`
    WITH session AS (SELECT 1 FROM sessions WHERE id = ${sessionId} FOR SHARE),
    touched AS (UPDATE grants SET last_used_at = ${new Date()} WHERE user_id = ${code.userId} AND channel_id = ${code.channelId} RETURNING 1),
    issued AS (
      INSERT INTO authorization_codes (code_hash, channel_id, user_id, redirect_uri, scopes, nonce, code_challenge, auth_time, amr, token_family, expires_at)
      SELECT ${codeHash}, ${code.channelId}, ${code.userId}, ${code.redirectUri}, ${code.scopes}::text[], ${code.nonce}, ${code.codeChallenge},
             ${code.authTime}, ${code.amr}::text[], ${code.tokenFamily}, ${code.expiresAt} FROM session
      RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM issued) AS issued`.execute(db)
  return rows[0]!.issued
}

export type CodeClaim =
  | {
      status: 'claimed'
      code: AuthorizationCode
      user: ClaimSource
      channel: Channel
      grantedItems: string[] | null
      userDisabled: boolean
    }
  | { status: 'reused'; tokenFamily: string; codeChannelId: string; userId: string; channel: Channel | undefined }
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
  const unprefixed = Object.fromEntries(
    Object.entries(row)
      .filter(([key]) => key.startsWith('ch_'))
      .map(([key, value]) => [key.slice(3), value]),
  )
  return channelFromRow(unprefixed as unknown as ChannelRow)
}

/**
 * Marks the code used and returns it with its user's claims, the user's current grant and the
 * presenting channel, in one committed statement: a check failing afterwards (PKCE, redirect_uri)
 * still leaves the code burnt. Only the channel the code was issued to, authenticated, burns it:
 * the presented secret's SHA-256 must equal the stored one (a confidential channel), or no secret
 * is sent (a public one). Comparing digests in SQL tells an attacker nothing about the secret (they cannot
 * choose a digest's bytes); the caller still verifies the credentials in constant time for its
 * answer. A code used before answers `reused` with the family of tokens it issued and its channel,
 * so that only that channel, authenticated, can have them revoked.
 */
export async function claimAuthorizationCode(
  db: Executor,
  codeHash: Uint8Array,
  clientId: string,
  secretHash: Uint8Array | null,
  now: Date,
): Promise<CodeClaim> {
  const claimed = await sql<Record<string, unknown> & UserColumns>`
    UPDATE authorization_codes c SET consumed_at = ${now}
    FROM users u LEFT JOIN profiles p ON p.user_id = u.id, channels ch JOIN providers pr ON pr.id = ch.provider_id
    WHERE c.code_hash = ${codeHash} AND c.consumed_at IS NULL AND u.id = c.user_id AND ch.id = ${clientId} AND c.channel_id = ch.id
      AND CASE WHEN ch.kind IN ('spa', 'native') THEN ${secretHash === null} ELSE ch.secret_hash = ${secretHash}::bytea END
    RETURNING c.channel_id, c.user_id, c.redirect_uri, c.scopes, c.nonce, c.code_challenge, c.auth_time, c.amr,
              c.token_family, c.expires_at, u.email, u.display_name, u.picture_url, u.disabled_at IS NOT NULL AS user_disabled, ${PROFILE_SELECT},
              (SELECT g.granted_items FROM grants g WHERE g.user_id = c.user_id AND g.channel_id = c.channel_id) AS granted_items, ${CHANNEL_COLUMNS}`.execute(
    db,
  )
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
      grantedItems: row.granted_items as string[] | null,
      userDisabled: row.user_disabled as boolean,
    }
  }
  // Not claimed: an unknown channel, another channel's code, failed credentials, an unknown code,
  // or a code used before.
  const [channel, used] = await Promise.all([
    findChannel(db, clientId),
    db
      .selectFrom('authorization_codes')
      .select(['token_family', 'channel_id', 'user_id', 'consumed_at'])
      .where('code_hash', '=', codeHash)
      .executeTakeFirst(),
  ])
  return used && used.consumed_at !== null && channel
    ? { status: 'reused', tokenFamily: used.token_family, codeChannelId: used.channel_id, userId: used.user_id, channel }
    : { status: 'unknown', channel }
}

export interface NewTokens {
  family: string
  channelId: string
  userId: string
  /** What the tokens carry: releasableScopes() of the source, computed by the caller. */
  scopes: string[]
  accessTokenHash: Uint8Array
  accessExpiresAt: Date
  /** Absent when the refresh token is kept (confidential channels refresh without rotation). */
  refresh?: { hash: Uint8Array; expiresAt: Date; authTime: Date; amr: string[] }
  /** The audit entry of this issuance (a release of personal data), written in the same statement. */
  audit?: AuditEvent
  /** What the tokens are issued from: the claimed code, or a refresh token (consumed when rotated). */
  source: { kind: 'code'; codeHash: Uint8Array } | { kind: 'refresh'; tokenHash: Uint8Array; rotate: boolean; now: Date }
}

/**
 * Stores an access token, a refresh token and the audit entry: one statement, one round trip —
 * only if what the caller computed still holds when the statement runs. The statement first locks
 * the user's row and their grant to the channel (FOR SHARE) and re-checks them: the user is not
 * disabled, the grant exists and still holds every data item released, the channel is not
 * suspended and still has them approved. Then it locks the source (the code, or the refresh token,
 * consumed here when it rotates) and re-checks it is alive. Every revocation locks the user row
 * (password change, disable) or the grant row (unlink, deauthorize, family revocation) in its
 * first statement and deletes or revokes tokens in a later one, so the two serialise: an issuance
 * that committed first is seen and revoked; one that waited finds its grant, source or user gone
 * (PostgreSQL re-reads a locked row's newest version) and inserts nothing.
 *
 * `issued` false with `live` true means the source was already consumed or revoked (a reuse);
 * `live` false means the user, grant or channel no longer allow the release.
 */
export async function insertTokens(db: Executor, tokens: NewTokens): Promise<{ issued: boolean; live: boolean }> {
  const refresh = tokens.refresh
  const audit = tokens.audit
  const source = tokens.source
  const released = tokens.scopes.filter(isDataItem)
  const sourceStatement =
    source.kind === 'code'
      ? sql`SELECT 1 FROM authorization_codes WHERE code_hash = ${source.codeHash} AND consumed_at IS NOT NULL AND EXISTS (SELECT 1 FROM live) FOR SHARE`
      : source.rotate
        ? sql`UPDATE refresh_tokens SET consumed_at = ${source.now}
              WHERE token_hash = ${source.tokenHash} AND consumed_at IS NULL AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM live) RETURNING 1`
        : sql`SELECT 1 FROM refresh_tokens WHERE token_hash = ${source.tokenHash} AND revoked_at IS NULL AND EXISTS (SELECT 1 FROM live) FOR SHARE`
  const { rows } = await sql<{ issued: boolean; live: boolean }>`
    WITH live AS (
      SELECT 1 FROM users u
      JOIN grants g ON g.user_id = u.id AND g.channel_id = ${tokens.channelId}
      JOIN channels ch ON ch.id = g.channel_id
      WHERE u.id = ${tokens.userId} AND u.disabled_at IS NULL AND ch.suspended_at IS NULL AND g.granted_items @> ${released}::text[]
        AND coalesce((SELECT array_agg(cp.item) FROM channel_permissions cp WHERE cp.channel_id = ch.id AND cp.state = 'approved'), '{}') @> ${released}::text[]
      FOR SHARE OF u, g),
    source AS (${sourceStatement}),
    access AS (
      INSERT INTO access_tokens (token_hash, token_family, channel_id, user_id, scopes, expires_at)
      SELECT ${tokens.accessTokenHash}, ${tokens.family}, ${tokens.channelId}, ${tokens.userId}, ${tokens.scopes}::text[], ${tokens.accessExpiresAt} FROM source
      RETURNING 1),
    refresh AS (
      INSERT INTO refresh_tokens (token_hash, token_family, channel_id, user_id, scopes, auth_time, amr, expires_at)
      SELECT ${refresh?.hash ?? null}::bytea, ${tokens.family}, ${tokens.channelId}, ${tokens.userId}, ${tokens.scopes}::text[],
             ${refresh?.authTime ?? null}::timestamptz, ${refresh?.amr ?? null}::text[], ${refresh?.expiresAt ?? null}::timestamptz
      FROM source WHERE ${refresh !== undefined}
      RETURNING 1),
    audited AS (
      INSERT INTO audit_log (actor_id, actor_kind, action, object_type, object_id, ip, details)
      SELECT ${audit?.actorId ?? null}::uuid, ${audit?.actorKind ?? 'channel'}, ${audit?.action ?? ''}, ${audit?.objectType ?? null}, ${audit?.objectId ?? null},
             ${audit?.ip ?? null}, ${JSON.stringify(audit?.details ?? {})}::jsonb
      FROM source WHERE ${audit !== undefined}
      RETURNING 1)
    SELECT EXISTS (SELECT 1 FROM source) AS issued, EXISTS (SELECT 1 FROM live) AS live`.execute(db)
  return rows[0]!
}

/**
 * Locks the user's grant to the channel (FOR UPDATE) so that no issuance of its tokens runs
 * until the caller's transaction ends: the first statement of a family revocation.
 */
export async function lockGrant(db: Executor, userId: string, channelId: string): Promise<void> {
  await sql`SELECT 1 FROM grants WHERE user_id = ${userId} AND channel_id = ${channelId} FOR UPDATE`.execute(db)
}

/**
 * Revokes every access and refresh token of a family (code reuse, refresh token reuse, revoke),
 * and deletes the code that started it when given, so an exchange of that code still in flight
 * issues nothing. Run after lockGrant, in its transaction.
 */
export async function revokeTokenFamily(db: Executor, family: string, now: Date, codeHash?: Uint8Array): Promise<void> {
  await sql`
    WITH access AS (UPDATE access_tokens SET revoked_at = ${now} WHERE token_family = ${family} AND revoked_at IS NULL RETURNING 1),
    code AS (DELETE FROM authorization_codes WHERE code_hash = ${codeHash ?? null}::bytea RETURNING 1)
    UPDATE refresh_tokens SET revoked_at = ${now} WHERE token_family = ${family} AND revoked_at IS NULL`.execute(db)
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
  /** What releasableScopes() needs, read with the token. */
  release: ReleaseState
}

/** Columns for releaseState(), from a query joining channels c, users u and grants g (left). */
const RELEASE_COLUMNS =
  sql.raw(`c.suspended_at IS NOT NULL AS channel_suspended, u.disabled_at IS NOT NULL AS user_disabled, g.granted_items,
  (SELECT array_agg(cp.item) FROM channel_permissions cp WHERE cp.channel_id = c.id AND cp.state = 'approved') AS approved_items`)

function releaseState(row: Record<string, unknown>): ReleaseState {
  return {
    tokenScopes: row.scopes as string[],
    grantedItems: row.granted_items as string[] | null,
    approvedItems: (row.approved_items as string[] | null) ?? [],
    channelSuspended: row.channel_suspended as boolean,
    userDisabled: row.user_disabled as boolean,
  }
}

/** The token, its channel's pairwise secret, its user's claims and its release state, in one round trip (userinfo). */
export async function findAccessToken(db: Executor, tokenHash: Uint8Array): Promise<AccessTokenRecord | undefined> {
  const result = await sql<Record<string, unknown> & UserColumns>`
    SELECT a.channel_id, a.user_id, a.scopes, a.token_family, a.created_at, a.expires_at, a.revoked_at, pr.pairwise_secret,
           ${RELEASE_COLUMNS},
           u.email, u.display_name, u.picture_url, ${PROFILE_SELECT}
    FROM access_tokens a
    JOIN channels c ON c.id = a.channel_id
    JOIN providers pr ON pr.id = c.provider_id
    JOIN users u ON u.id = a.user_id
    LEFT JOIN profiles p ON p.user_id = a.user_id
    LEFT JOIN grants g ON g.user_id = a.user_id AND g.channel_id = a.channel_id
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
    release: releaseState(row),
  }
}

export async function revokeAccessToken(db: Executor, tokenHash: Uint8Array, channelId: string, now: Date): Promise<void> {
  await db
    .updateTable('access_tokens')
    .set({ revoked_at: now })
    .where('token_hash', '=', tokenHash)
    .where('channel_id', '=', channelId)
    .where('revoked_at', 'is', null)
    .execute()
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
  release: ReleaseState
}

/** The channel of `clientId` and, if it holds it, the refresh token: one round trip for the refresh grant. */
export async function findChannelWithRefreshToken(
  db: Executor,
  clientId: string,
  tokenHash: Uint8Array,
): Promise<{ channel: Channel; token: RefreshTokenRecord | undefined } | undefined> {
  if (!/^\d{10}$/.test(clientId)) return undefined
  const { rows } = await sql<Record<string, unknown>>`
    SELECT ${CHANNEL_COLUMNS}, rt.token_family, rt.user_id, rt.scopes, rt.auth_time, rt.amr, rt.created_at, rt.expires_at, rt.consumed_at, rt.revoked_at,
           u.disabled_at IS NOT NULL AS user_disabled, g.granted_items
    FROM channels ch
    JOIN providers pr ON pr.id = ch.provider_id
    LEFT JOIN refresh_tokens rt ON rt.token_hash = ${tokenHash} AND rt.channel_id = ch.id
    LEFT JOIN users u ON u.id = rt.user_id
    LEFT JOIN grants g ON g.user_id = rt.user_id AND g.channel_id = ch.id
    WHERE ch.id = ${clientId}`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  return {
    channel: prefixedChannel(row),
    token:
      row.token_family === null
        ? undefined
        : refreshTokenFromRow(
            row,
            row.ch_id as string,
            releaseState({ ...row, channel_suspended: row.ch_suspended_at !== null, approved_items: row.ch_approved_items }),
          ),
  }
}

/** A refresh token with its release state (introspection, revocation). */
export async function findRefreshToken(db: Executor, tokenHash: Uint8Array): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await sql<Record<string, unknown>>`
    SELECT rt.token_family, rt.channel_id, rt.user_id, rt.scopes, rt.auth_time, rt.amr, rt.created_at, rt.expires_at, rt.consumed_at, rt.revoked_at, ${RELEASE_COLUMNS}
    FROM refresh_tokens rt
    JOIN channels c ON c.id = rt.channel_id
    JOIN users u ON u.id = rt.user_id
    LEFT JOIN grants g ON g.user_id = rt.user_id AND g.channel_id = rt.channel_id
    WHERE rt.token_hash = ${tokenHash}`.execute(db)
  const row = rows[0]
  return row && refreshTokenFromRow(row, row.channel_id as string, releaseState(row))
}

/** The one mapper of a refresh_tokens row (the channel id comes from whichever join read it). */
function refreshTokenFromRow(row: Record<string, unknown>, channelId: string, release: RefreshTokenRecord['release']): RefreshTokenRecord {
  return {
    family: row.token_family as string,
    channelId,
    userId: row.user_id as string,
    scopes: row.scopes as string[],
    authTime: row.auth_time as Date,
    amr: row.amr as string[],
    createdAt: row.created_at as Date,
    expiresAt: row.expires_at as Date,
    consumedAt: row.consumed_at as Date | null,
    revokedAt: row.revoked_at as Date | null,
    release,
  }
}

export async function insertChannelAccessToken(db: Executor, tokenHash: Uint8Array, channelId: string, expiresAt: Date): Promise<void> {
  await db.insertInto('channel_access_tokens').values({ token_hash: tokenHash, channel_id: channelId, expires_at: expiresAt }).execute()
}

export async function findChannelAccessToken(
  db: Executor,
  tokenHash: Uint8Array,
): Promise<{ channelId: string; expiresAt: Date } | undefined> {
  const row = await db
    .selectFrom('channel_access_tokens')
    .select(['channel_id', 'expires_at'])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst()
  return row && { channelId: row.channel_id, expiresAt: row.expires_at }
}

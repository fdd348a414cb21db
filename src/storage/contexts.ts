// The reads of the authorization hot path, each one round trip: everything a step needs (the
// channel, the browser's session and user, their grant, the interaction, the profile) joined in
// one query, instead of one query per object.
import { sql } from 'kysely'
import type { ProfilePlus } from '../domain/profile.ts'
import type { Grant } from '../domain/release.ts'
import { channelFromRow, type Channel, type ChannelRow } from './channels.ts'
import type { Executor } from './database.ts'
import { openInteractionRequest, type InteractionRecord } from './interactions.ts'
import { profileFromRow, profileSelect, type ProfileColumns } from './profiles.ts'
import type { SessionRecord } from './sessions.ts'
import { userFromRow, type User } from './users.ts'

const CHANNEL = sql.raw(`c.*, pr.pairwise_secret,
  (SELECT array_agg(cp.item ORDER BY cp.item) FROM channel_permissions cp WHERE cp.channel_id = c.id AND cp.state = 'approved') AS approved_items`)

// The Profile+ columns of the profiles row (joined as p), from the item registry.
const PROFILE_SELECT = profileSelect('p')

const SESSION = sql.raw(`s.id AS s_id, s.secret_hash AS s_secret_hash, s.auth_time AS s_auth_time, s.created_at AS s_created_at,
  s.last_seen_at AS s_last_seen_at, s.expires_at AS s_expires_at,
  u.id AS u_id, u.email AS u_email, u.display_name AS u_display_name, u.picture_url AS u_picture_url, u.is_admin AS u_is_admin, u.created_at AS u_created_at,
  g.granted_items AS g_granted_items, g.refused_items AS g_refused_items`)

type SessionColumns = {
  s_id: string | null
  s_secret_hash: Uint8Array
  s_auth_time: Date
  s_created_at: Date
  s_last_seen_at: Date
  s_expires_at: Date
  u_id: string
  u_email: string
  u_display_name: string
  u_picture_url: string | null
  u_is_admin: boolean
  u_created_at: Date
  g_granted_items: string[] | null
  g_refused_items: string[] | null
}

export interface SessionContext {
  session: SessionRecord
  user: User
  grant: Grant | null
}

function sessionContext(row: SessionColumns): SessionContext | undefined {
  if (row.s_id === null) return undefined
  return {
    session: {
      id: row.s_id,
      secretHash: row.s_secret_hash,
      userId: row.u_id,
      authTime: row.s_auth_time,
      createdAt: row.s_created_at,
      lastSeenAt: row.s_last_seen_at,
      expiresAt: row.s_expires_at,
    },
    user: userFromRow({
      id: row.u_id,
      email: row.u_email,
      display_name: row.u_display_name,
      picture_url: row.u_picture_url,
      is_admin: row.u_is_admin,
      created_at: row.u_created_at,
    }),
    grant: row.g_granted_items && row.g_refused_items ? { grantedItems: row.g_granted_items, refusedItems: row.g_refused_items } : null,
  }
}

/** The channel of an authorization request, and the browser's session with its user's grant to it. */
export async function findAuthorizeContext(
  db: Executor,
  channelId: string,
  sessionId: string | null,
): Promise<{ channel: Channel; session: SessionContext | undefined } | undefined> {
  if (!/^\d{10}$/.test(channelId)) return undefined
  const { rows } = await sql<ChannelRow & SessionColumns>`
    SELECT ${CHANNEL}, ${SESSION}
    FROM channels c
    JOIN providers pr ON pr.id = c.provider_id
    LEFT JOIN sessions s ON s.id = ${sessionId ?? ''}
    LEFT JOIN users u ON u.id = s.user_id
    LEFT JOIN grants g ON g.user_id = s.user_id AND g.channel_id = c.id
    WHERE c.id = ${channelId}`.execute(db)
  const row = rows[0]
  return row && { channel: channelFromRow(row), session: sessionContext(row) }
}

export interface InteractionContext {
  interaction: InteractionRecord
  channel: Channel
  session: SessionContext | undefined
  /** The session user's Profile+ data (empty items when there is no session). */
  profile: ProfilePlus
  providerName: string
  /** The privacy policy of the channel's latest approved permission application, if any. */
  privacyPolicyUrl: string | null
}

/** An interaction with its channel, the browser's session, the user's grant and profile. */
export async function findInteractionContext(
  db: Executor,
  interactionId: string,
  sessionId: string | null,
): Promise<InteractionContext | undefined> {
  const { rows } = await sql<ChannelRow & SessionColumns & ProfileColumns & Record<string, unknown>>`
    SELECT ${CHANNEL}, ${SESSION},
      i.id AS i_id, i.browser_hash AS i_browser_hash, i.request AS i_request, i.user_id AS i_user_id, i.auth_time AS i_auth_time, i.expires_at AS i_expires_at,
      ${PROFILE_SELECT},
      pr.name AS provider_name,
      (SELECT a.policy_url FROM permission_applications a WHERE a.channel_id = c.id AND a.state = 'approved'
        ORDER BY a.decided_at DESC NULLS LAST LIMIT 1) AS approved_policy_url
    FROM interactions i
    JOIN channels c ON c.id = i.channel_id
    JOIN providers pr ON pr.id = c.provider_id
    LEFT JOIN sessions s ON s.id = ${sessionId ?? ''}
    LEFT JOIN users u ON u.id = s.user_id
    LEFT JOIN grants g ON g.user_id = s.user_id AND g.channel_id = c.id
    LEFT JOIN profiles p ON p.user_id = s.user_id
    WHERE i.id = ${interactionId}`.execute(db)
  const row = rows[0]
  if (!row) return undefined
  return {
    interaction: {
      id: row.i_id as string,
      browserHash: row.i_browser_hash as Uint8Array,
      channelId: row.id,
      request: openInteractionRequest(row.i_id as string, row.i_request),
      userId: row.i_user_id as string | null,
      authTime: row.i_auth_time as Date | null,
      expiresAt: row.i_expires_at as Date,
    },
    channel: channelFromRow(row),
    session: sessionContext(row),
    profile: row.u_id ? profileFromRow(row, row.u_id) : profileFromRow({} as ProfileColumns, ''),
    providerName: row.provider_name as string,
    privacyPolicyUrl: (row.approved_policy_url as string | null) ?? null,
  }
}

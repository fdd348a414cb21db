// Invitations to a provider (as a member) or a channel (as a tester), pending until the invitee
// accepts or declines them on their own pages (console/invitations.ts).
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Executor } from './database.ts'

export interface NewInvitation {
  kind: 'member' | 'tester'
  providerId: string
  channelId: string | null
  role: 'owner' | 'developer' | null
  inviteeId: string
  inviterId: string
  expiresAt: Date
}

/**
 * Records an invitation, or renews the pending one of the same invitee (a new role, a later
 * expiry). Nothing happens for someone who already is a member (tester).
 */
export async function upsertInvitation(db: Executor, invitation: NewInvitation): Promise<void> {
  const i = invitation
  if (i.kind === 'member') {
    await sql`
      INSERT INTO invitations (id, kind, provider_id, channel_id, role, invitee_id, inviter_id, expires_at)
      SELECT ${randomUUID()}, 'member', ${i.providerId}, NULL, ${i.role}, ${i.inviteeId}, ${i.inviterId}, ${i.expiresAt}
      WHERE NOT EXISTS (SELECT 1 FROM provider_members WHERE provider_id = ${i.providerId} AND user_id = ${i.inviteeId})
      ON CONFLICT (provider_id, invitee_id) WHERE kind = 'member'
        DO UPDATE SET role = EXCLUDED.role, inviter_id = EXCLUDED.inviter_id, expires_at = EXCLUDED.expires_at`.execute(db)
  } else {
    await sql`
      INSERT INTO invitations (id, kind, provider_id, channel_id, role, invitee_id, inviter_id, expires_at)
      SELECT ${randomUUID()}, 'tester', ${i.providerId}, ${i.channelId}, NULL, ${i.inviteeId}, ${i.inviterId}, ${i.expiresAt}
      WHERE NOT EXISTS (SELECT 1 FROM channel_testers WHERE channel_id = ${i.channelId} AND user_id = ${i.inviteeId})
      ON CONFLICT (channel_id, invitee_id) WHERE kind = 'tester'
        DO UPDATE SET inviter_id = EXCLUDED.inviter_id, expires_at = EXCLUDED.expires_at`.execute(db)
  }
}

export interface PendingInvitation {
  id: string
  kind: 'member' | 'tester'
  providerId: string
  providerName: string
  channelId: string | null
  channelName: string | null
  role: 'owner' | 'developer' | null
  inviterName: string | null
  createdAt: Date
  expiresAt: Date
}

/** The user's invitations that have not expired, oldest first. */
export async function listPendingInvitations(db: Executor, inviteeId: string, now: Date): Promise<PendingInvitation[]> {
  const rows = await db
    .selectFrom('invitations as i')
    .innerJoin('providers as p', 'p.id', 'i.provider_id')
    .leftJoin('channels as c', 'c.id', 'i.channel_id')
    .leftJoin('users as u', 'u.id', 'i.inviter_id')
    .select([
      'i.id',
      'i.kind',
      'i.provider_id',
      'p.name as provider_name',
      'i.channel_id',
      'c.name as channel_name',
      'i.role',
      'u.display_name as inviter_name',
      'i.created_at',
      'i.expires_at',
    ])
    .where('i.invitee_id', '=', inviteeId)
    .where('i.expires_at', '>', now)
    .orderBy('i.created_at')
    .orderBy('i.id')
    .execute()
  return rows.map((row) => ({
    id: row.id,
    kind: row.kind,
    providerId: row.provider_id,
    providerName: row.provider_name,
    channelId: row.channel_id,
    channelName: row.channel_name ?? null,
    role: row.role,
    inviterName: row.inviter_name ?? null,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  }))
}

/**
 * Takes the invitee's own, unexpired invitation out of the table — once: of two requests
 * answering it at the same time, one gets it and the other nothing (the DELETE is the guard).
 */
export async function takeInvitation(
  db: Executor,
  id: string,
  inviteeId: string,
  now: Date,
): Promise<Omit<PendingInvitation, 'providerName' | 'channelName' | 'inviterName'> | undefined> {
  const row = await db
    .deleteFrom('invitations')
    .where('id', '=', id)
    .where('invitee_id', '=', inviteeId)
    .where('expires_at', '>', now)
    .returning(['id', 'kind', 'provider_id', 'channel_id', 'role', 'created_at', 'expires_at'])
    .executeTakeFirst()
  return (
    row && {
      id: row.id,
      kind: row.kind,
      providerId: row.provider_id,
      channelId: row.channel_id,
      role: row.role,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
    }
  )
}

export async function deleteExpiredInvitations(db: Executor, before: Date, batchSize: number): Promise<number> {
  const result = await db
    .deleteFrom('invitations')
    .where('id', 'in', (eb) => eb.selectFrom('invitations').select('id').where('expires_at', '<=', before).limit(batchSize))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

// Changes to what users trust a channel by — its name, icon and callback URLs — made after an
// administrator approved one of its items: kept for administrators to look at (console/changes.ts).
import { randomUUID } from 'node:crypto'
import { sql } from 'kysely'
import type { Executor } from './database.ts'

export type WatchedField = 'name' | 'icon_url' | 'callback_urls'

/**
 * Records the change if the channel has an item approved (or approved, then suspended); returns
 * whether it was recorded. One statement: the check and the insert see the same permissions.
 */
export async function recordChangeAfterApproval(
  db: Executor,
  change: { channelId: string; field: WatchedField; oldValue: unknown; newValue: unknown; actorId: string | null },
): Promise<boolean> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO channel_changes (id, channel_id, field, old_value, new_value, actor_id)
    SELECT ${randomUUID()}, ${change.channelId}, ${change.field}, ${JSON.stringify(change.oldValue)}::jsonb, ${JSON.stringify(change.newValue)}::jsonb, ${change.actorId}::uuid
    WHERE EXISTS (SELECT 1 FROM channel_permissions WHERE channel_id = ${change.channelId} AND state IN ('approved', 'suspended'))
    RETURNING id`.execute(db)
  return rows.length > 0
}

export interface ChannelChange {
  id: string
  channelId: string
  channelName: string
  providerName: string
  field: WatchedField
  oldValue: unknown
  newValue: unknown
  actorId: string | null
  createdAt: Date
}

/** Changes no administrator has looked at yet, oldest first. */
export async function listPendingChanges(db: Executor, limit: number): Promise<ChannelChange[]> {
  const rows = await db
    .selectFrom('channel_changes as x')
    .innerJoin('channels as c', 'c.id', 'x.channel_id')
    .innerJoin('providers as p', 'p.id', 'c.provider_id')
    .select([
      'x.id',
      'x.channel_id',
      'c.name as channel_name',
      'p.name as provider_name',
      'x.field',
      'x.old_value',
      'x.new_value',
      'x.actor_id',
      'x.created_at',
    ])
    .where('x.reviewed_at', 'is', null)
    .orderBy('x.created_at')
    .orderBy('x.id')
    .limit(limit)
    .execute()
  return rows.map((row) => ({
    id: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    providerName: row.provider_name,
    field: row.field,
    oldValue: row.old_value,
    newValue: row.new_value,
    actorId: row.actor_id,
    createdAt: row.created_at,
  }))
}

/** Marks a pending change as looked at; its channel, or undefined when there is no such pending change. */
export async function markChangeReviewed(
  db: Executor,
  id: string,
  reviewerId: string,
  now: Date,
): Promise<{ channelId: string; field: WatchedField } | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined
  const row = await db
    .updateTable('channel_changes')
    .set({ reviewed_at: now, reviewer_id: reviewerId })
    .where('id', '=', id)
    .where('reviewed_at', 'is', null)
    .returning(['channel_id', 'field'])
    .executeTakeFirst()
  return row && { channelId: row.channel_id, field: row.field }
}

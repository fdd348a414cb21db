// Logins in progress. The row holds the validated authorization request; the browser that
// started it holds a cookie whose hash the row keeps, so another browser cannot finish it.
import type { Executor } from './database.ts'

export interface InteractionRecord {
  id: string
  browserHash: Uint8Array
  channelId: string
  request: Record<string, unknown>
  userId: string | null
  authTime: Date | null
  expiresAt: Date
}

export async function insertInteraction(db: Executor, interaction: Omit<InteractionRecord, 'userId' | 'authTime'>): Promise<void> {
  await db
    .insertInto('interactions')
    .values({
      id: interaction.id,
      browser_hash: interaction.browserHash,
      channel_id: interaction.channelId,
      request: JSON.stringify(interaction.request),
      expires_at: interaction.expiresAt,
    })
    .execute()
}

export async function findInteraction(db: Executor, id: string): Promise<InteractionRecord | undefined> {
  const row = await db.selectFrom('interactions').selectAll().where('id', '=', id).executeTakeFirst()
  return (
    row && {
      id: row.id,
      browserHash: row.browser_hash,
      channelId: row.channel_id,
      request: row.request,
      userId: row.user_id,
      authTime: row.auth_time,
      expiresAt: row.expires_at,
    }
  )
}

export async function recordInteractionLogin(db: Executor, id: string, userId: string, authTime: Date): Promise<void> {
  await db.updateTable('interactions').set({ user_id: userId, auth_time: authTime }).where('id', '=', id).execute()
}

/** Deletes the interaction; false when it was already gone (a form submitted twice). */
export async function finishInteraction(db: Executor, id: string): Promise<boolean> {
  const result = await db.deleteFrom('interactions').where('id', '=', id).executeTakeFirst()
  return Number(result.numDeletedRows) > 0
}

/** Expired interactions are kept a day, so a late form gets the "expired" page, then deleted. */
export async function deleteExpiredInteractions(db: Executor, before: Date, batchSize: number): Promise<number> {
  const result = await db
    .deleteFrom('interactions')
    .where('id', 'in', (eb) => eb.selectFrom('interactions').select('id').where('expires_at', '<=', before).limit(batchSize))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}

// A user's decisions per channel: items granted and items refused.
import type { Executor } from './database.ts'
import type { Grant } from '../domain/release.ts'

export async function findGrant(db: Executor, userId: string, channelId: string): Promise<Grant | null> {
  const row = await db
    .selectFrom('grants')
    .select(['granted_items', 'refused_items'])
    .where('user_id', '=', userId)
    .where('channel_id', '=', channelId)
    .executeTakeFirst()
  return row ? { grantedItems: row.granted_items, refusedItems: row.refused_items } : null
}

/**
 * A consent decision applied to the grant before it: the items decided now replace earlier
 * decisions on the same items; items not asked about keep what was decided before.
 */
export function mergeDecision(previous: Grant | null, granted: readonly string[], refused: readonly string[]): Grant {
  const before = previous ?? { grantedItems: [], refusedItems: [] }
  const decided = new Set([...granted, ...refused])
  return {
    grantedItems: [...new Set([...before.grantedItems.filter((item) => !decided.has(item)), ...granted])],
    refusedItems: [...new Set([...before.refusedItems.filter((item) => !decided.has(item)), ...refused])],
  }
}

// Where the user's data went: the releases, newest first, a page at a time.
import type { Executor } from '../storage/database.ts'
import { listReleases, type Release } from '../storage/user-data.ts'

export type { Release }

const PAGE_SIZE = 50

/** One page of releases before the cursor (an audit id); a cursor that is not one reads from the newest. */
export function sharingHistory(db: Executor, userId: string, before: unknown): Promise<{ items: Release[]; next: string | null }> {
  return listReleases(db, userId, {
    before: typeof before === 'string' && /^\d{1,19}$/.test(before) ? before : undefined,
    limit: PAGE_SIZE,
  })
}

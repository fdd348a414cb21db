// The review queue: permission applications waiting for a decision (with their channels' owners,
// whom an administrator may need to contact) and settings changed after an approval.
import type { Executor } from '../storage/database.ts'
import { findApplication, listApplications, type Application, type ApplicationState } from '../storage/applications.ts'
import { listPendingChanges, type ChannelChange } from '../storage/channel-changes.ts'
import { listChannelOwners } from '../storage/console.ts'
import { decodeCursor, nextCursor, UuidAfterCursor } from './cursors.ts'

export type { Application, ApplicationState, ChannelChange }

export const APPLICATION_STATES: readonly ApplicationState[] = ['applied', 'approved', 'rejected', 'suspended']

/** A page of applications in one state, oldest first; `cursor` is the previous page's `next`. */
export async function applicationsPage(
  db: Executor,
  state: ApplicationState,
  cursor: unknown,
  limit: number,
): Promise<{ items: Application[]; next: string | null }> {
  const items = await listApplications(db, state, { after: decodeCursor(cursor, UuidAfterCursor), limit })
  return { items, next: nextCursor(items, limit, (last) => ({ createdAt: last.createdAt, id: last.id })) }
}

export async function applicationById(db: Executor, id: string): Promise<Application | undefined> {
  return findApplication(db, id)
}

export async function pendingChanges(db: Executor, limit: number): Promise<ChannelChange[]> {
  return listPendingChanges(db, limit)
}

/** What the queue page shows: the waiting applications (with owners) and the pending changes. */
export async function reviewQueue(db: Executor, cursor: unknown, limit: number) {
  const { items, next } = await applicationsPage(db, 'applied', cursor, limit)
  const applications = await Promise.all(items.map(async (a) => ({ ...a, owners: await listChannelOwners(db, a.providerId) })))
  return { applications, changes: await pendingChanges(db, limit), next }
}

// The user's browser sessions: listing them and ending one or all but the current one.
import type { Kysely } from 'kysely'
import { appendAudit } from '../storage/audit.ts'
import type { Executor } from '../storage/database.ts'
import type { DB } from '../storage/schema.ts'
import { type BrowserSession, endOtherSessions, endUserSession, listSessions } from '../storage/user-data.ts'
import type { Self } from './actor.ts'

export type { BrowserSession }

export function browserSessions(db: Executor, userId: string, now = new Date()): Promise<BrowserSession[]> {
  return listSessions(db, userId, now)
}

/** Ends one of the user's own sessions; false when there was none (nothing audited). */
export async function endBrowserSession(db: Kysely<DB>, self: Self, sessionId: string): Promise<boolean> {
  return db.transaction().execute(async (trx) => {
    if (!(await endUserSession(trx, self.userId, sessionId))) return false
    await appendAudit(trx, sessionEnded(self))
    return true
  })
}

/** Ends every session of the user but the one they act from. */
export async function endOtherBrowserSessions(db: Kysely<DB>, self: Self, keep: string): Promise<number> {
  return db.transaction().execute(async (trx) => {
    const ended = await endOtherSessions(trx, self.userId, keep)
    await appendAudit(trx, { ...sessionEnded(self), details: { count: ended } })
    return ended
  })
}

const sessionEnded = (self: Self) => ({
  actorId: self.userId,
  actorKind: 'user' as const,
  ip: self.ip,
  action: 'session.ended',
  objectType: 'user',
  objectId: self.userId,
})

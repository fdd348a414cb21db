// The user's pending invitations (answering one is console/invitations.ts's answerInvitation).
import type { Executor } from '../storage/database.ts'
import { listPendingInvitations, type PendingInvitation } from '../storage/invitations.ts'

export type { PendingInvitation }

export function pendingInvitations(db: Executor, userId: string, now = new Date()): Promise<PendingInvitation[]> {
  return listPendingInvitations(db, userId, now)
}

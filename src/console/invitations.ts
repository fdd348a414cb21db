// Members and testers join by invitation (README, Security: Names people trust): an owner (or any
// member, for testers) names an email; if an account has it, an invitation waits on that account's
// invitations page until they accept or decline it. The inviter sees the same answer whether or
// not the account exists, so the console cannot be used to find out who has an account, and
// nobody — an administrator included — becomes a member of a provider without agreeing to it
// (membership excludes an administrator from reviewing the provider's applications).
import type { Kysely } from 'kysely'
import type { DB } from '../storage/schema.ts'
import { appendAudit } from '../storage/audit.ts'
import { addChannelTester, addProviderMember } from '../storage/channels.ts'
import { takeInvitation, upsertInvitation } from '../storage/invitations.ts'
import { findUserWithPasswordByEmail } from '../storage/users.ts'

/** How long an invitation waits for an answer. */
export const INVITATION_TTL_DAYS = 14

export interface InvitingActor {
  userId: string
  ip: string | null
}

export type Invitee =
  | { kind: 'member'; providerId: string; role: 'owner' | 'developer' }
  | { kind: 'tester'; providerId: string; channelId: string }

/**
 * Invites the account of `email`, if there is one. Returns nothing either way: the caller answers
 * the same. The audit entry names the invitee only when there is one (administrators read it).
 */
export async function invite(db: Kysely<DB>, actor: InvitingActor, email: string, target: Invitee, now = new Date()): Promise<void> {
  const found = await findUserWithPasswordByEmail(db, email)
  const expiresAt = new Date(now.getTime() + INVITATION_TTL_DAYS * 24 * 3600 * 1000)
  await db.transaction().execute(async (trx) => {
    if (found) {
      await upsertInvitation(trx, {
        kind: target.kind,
        providerId: target.providerId,
        channelId: target.kind === 'tester' ? target.channelId : null,
        role: target.kind === 'member' ? target.role : null,
        inviteeId: found.user.id,
        inviterId: actor.userId,
        expiresAt,
      })
    }
    const object =
      target.kind === 'member'
        ? { objectType: 'provider', objectId: target.providerId }
        : { objectType: 'channel', objectId: target.channelId }
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: target.kind === 'member' ? 'member.invited' : 'tester.invited',
      ...object,
      details: { invitee: found?.user.id ?? null, ...(target.kind === 'member' ? { role: target.role } : {}) },
    })
  })
}

/**
 * The invitee's answer. Accepting makes them a member (tester) in the transaction that takes the
 * invitation; false when there is no such pending invitation of theirs (answered already, expired,
 * or someone else's).
 */
export async function answerInvitation(
  db: Kysely<DB>,
  actor: InvitingActor,
  invitationId: string,
  accept: boolean,
  now = new Date(),
): Promise<boolean> {
  if (!/^[0-9a-f-]{36}$/.test(invitationId)) return false
  return db.transaction().execute(async (trx) => {
    const invitation = await takeInvitation(trx, invitationId, actor.userId, now)
    if (!invitation) return false
    if (accept && invitation.kind === 'member')
      await addProviderMember(trx, invitation.providerId, actor.userId, invitation.role ?? 'developer')
    if (accept && invitation.kind === 'tester') await addChannelTester(trx, invitation.channelId!, actor.userId)
    const object =
      invitation.kind === 'member'
        ? { objectType: 'provider', objectId: invitation.providerId }
        : { objectType: 'channel', objectId: invitation.channelId! }
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: 'user',
      ip: actor.ip,
      action: `${invitation.kind}.invitation_${accept ? 'accepted' : 'declined'}`,
      ...object,
      details: { invitation: invitation.id, ...(invitation.role ? { role: invitation.role } : {}) },
    })
    return true
  })
}

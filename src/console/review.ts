// The Profile+ review workflow (docs/profile-claims.md#permissions): a channel applies for an item with a purpose and a
// privacy policy; an administrator who is not a member of the channel's provider approves or
// rejects with a reason; an approval can be suspended. Every step is one transaction with its
// audit entry, so nothing is half-written.
import type { Kysely } from 'kysely'
import { z } from 'zod'
import { DATA_ITEMS } from '../oauth/scopes.ts'
import type { DB } from '../storage/schema.ts'
import type { Executor } from '../storage/database.ts'
import { appendAudit, type ActorKind } from '../storage/audit.ts'
import {
  decideApplication,
  findApplication,
  insertApplication,
  listChannelApplications,
  suspendApprovedApplication,
} from '../storage/applications.ts'
import { findChannel, setPermissions } from '../storage/channels.ts'
import { findMembership, setChannelSuspension } from '../storage/console.ts'
import { callbackUrlProblem } from '../oauth/callback-urls.ts'
import { english, type MessageKey, type MessageParams } from '../i18n/index.ts'

/** A refused review step: `message` is English (the API, the CLI); pages translate `key`. */
export class ReviewError extends Error {
  constructor(
    readonly kind: 'forbidden' | 'not_found' | 'conflict' | 'invalid',
    readonly key: MessageKey,
    readonly params: MessageParams = {},
  ) {
    super(english(key, params))
  }
}

export interface Actor {
  userId: string | null
  kind: ActorKind
  ip: string | null
}

const policyUrl = z
  .string()
  .trim()
  .refine((url) => callbackUrlProblem(url, 'web') === null, { message: 'error.https' })

export const ApplicationInput = z.object({
  item: z.enum(DATA_ITEMS, { message: 'error.item' }),
  purpose: z.string().trim().min(10, 'error.purpose').max(2000, 'error.tooLong'),
  policyUrl,
})

export const Reason = z.string().trim().min(1, 'error.required').max(1000, 'error.tooLong')

export async function applyForPermission(
  db: Kysely<DB>,
  actor: Actor,
  channelId: string,
  input: z.output<typeof ApplicationInput>,
): Promise<string> {
  const [id] = await applyForPermissions(db, actor, channelId, { items: [input.item], purpose: input.purpose, policyUrl: input.policyUrl })
  return id!
}

/** Several items under one purpose and policy (the console's form): one application each, all or none. */
export const ApplicationsInput = z.object({
  items: z.array(z.enum(DATA_ITEMS, { message: 'error.item' })).min(1, 'error.chooseItem'),
  purpose: ApplicationInput.shape.purpose,
  policyUrl,
})

export async function applyForPermissions(
  db: Kysely<DB>,
  actor: Actor,
  channelId: string,
  input: z.output<typeof ApplicationsInput>,
): Promise<string[]> {
  return db.transaction().execute(async (trx) => {
    const channel = await findChannel(trx, channelId)
    if (!channel) throw new ReviewError('not_found', 'review.noChannel')
    const applications = await listChannelApplications(trx, channelId)
    const ids: string[] = []
    for (const item of new Set(input.items)) {
      if (channel.approvedItems.includes(item)) throw new ReviewError('conflict', 'review.alreadyApproved', { item })
      const latest = applications.find((application) => application.item === item)
      if (latest?.state === 'applied') throw new ReviewError('conflict', 'review.alreadyWaiting', { item })
      const id = await insertApplication(trx, {
        channelId,
        item,
        purpose: input.purpose,
        policyUrl: input.policyUrl,
        applicantId: actor.userId,
      })
      await setPermissions(trx, channelId, [item], 'applied')
      await appendAudit(trx, {
        actorId: actor.userId,
        actorKind: actor.kind,
        ip: actor.ip,
        action: 'application.submitted',
        objectType: 'channel',
        objectId: channelId,
        details: { item, application: id },
      })
      ids.push(id)
    }
    return ids
  })
}

/** An administrator who belongs to the channel's provider may not review its applications. */
async function assertNotOwnChannel(db: Executor, actor: Actor, providerId: string) {
  if (actor.userId && (await findMembership(db, providerId, actor.userId))) {
    throw new ReviewError('forbidden', 'review.ownProvider')
  }
}

export async function reviewApplication(
  db: Kysely<DB>,
  actor: Actor,
  applicationId: string,
  decision: { approve: true } | { approve: false; reason: string },
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const application = await findApplication(trx, applicationId)
    if (!application) throw new ReviewError('not_found', 'review.noApplication')
    await assertNotOwnChannel(trx, actor, application.providerId)
    const now = new Date()
    const state = decision.approve ? 'approved' : 'rejected'
    const reason = decision.approve ? null : decision.reason
    if (!(await decideApplication(trx, applicationId, { state, reviewerId: actor.userId, reason, now }))) {
      throw new ReviewError('conflict', 'review.alreadyDecided', { state: application.state })
    }
    await setPermissions(trx, application.channelId, [application.item], state)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: actor.kind,
      ip: actor.ip,
      action: decision.approve ? 'application.approved' : 'application.rejected',
      objectType: 'channel',
      objectId: application.channelId,
      details: { item: application.item, application: applicationId, ...(reason ? { reason } : {}) },
    })
  })
}

/** Suspends an approved item: the next authorization asking for it is refused, and the next refresh and userinfo drop it. */
export async function suspendPermission(
  db: Kysely<DB>,
  actor: Actor,
  channelId: string,
  item: string,
  reason: string | null,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const channel = await findChannel(trx, channelId)
    if (!channel) throw new ReviewError('not_found', 'review.noChannel')
    if (!channel.approvedItems.includes(item)) throw new ReviewError('conflict', 'review.notApproved', { item })
    await assertNotOwnChannel(trx, actor, channel.providerId)
    const now = new Date()
    await setPermissions(trx, channelId, [item], 'suspended')
    await suspendApprovedApplication(trx, channelId, item, actor.userId, reason, now)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: actor.kind,
      ip: actor.ip,
      action: 'permission.suspended',
      objectType: 'channel',
      objectId: channelId,
      details: { item, ...(reason ? { reason } : {}) },
    })
  })
}

export async function suspendChannel(db: Kysely<DB>, actor: Actor, channelId: string, suspend: { reason: string } | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const channel = await findChannel(trx, channelId)
    if (!channel) throw new ReviewError('not_found', 'review.noChannel')
    await assertNotOwnChannel(trx, actor, channel.providerId)
    await setChannelSuspension(trx, channelId, suspend ? { at: new Date(), reason: suspend.reason } : null)
    await appendAudit(trx, {
      actorId: actor.userId,
      actorKind: actor.kind,
      ip: actor.ip,
      action: suspend ? 'channel.suspended' : 'channel.unsuspended',
      objectType: 'channel',
      objectId: channelId,
      details: suspend ? { reason: suspend.reason } : {},
    })
  })
}

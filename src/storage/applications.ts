// Permission applications and the review queue. channel_permissions holds the current right of a
// channel per item; each application and its outcome is a row here.
import { randomUUID } from 'node:crypto'
import type { Executor } from './database.ts'

export type ApplicationState = 'applied' | 'approved' | 'rejected' | 'suspended'

export interface Application {
  id: string
  channelId: string
  channelName: string
  providerId: string
  providerName: string
  item: string
  purpose: string
  policyUrl: string
  state: ApplicationState
  applicantId: string | null
  reviewerId: string | null
  reason: string | null
  createdAt: Date
  decidedAt: Date | null
}

function baseQuery(db: Executor) {
  return db
    .selectFrom('permission_applications as a')
    .innerJoin('channels as c', 'c.id', 'a.channel_id')
    .innerJoin('providers as p', 'p.id', 'c.provider_id')
    .select([
      'a.id',
      'a.channel_id',
      'c.name as channel_name',
      'c.provider_id',
      'p.name as provider_name',
      'a.item',
      'a.purpose',
      'a.policy_url',
      'a.state',
      'a.applicant_id',
      'a.reviewer_id',
      'a.reason',
      'a.created_at',
      'a.decided_at',
    ])
}

type Row = Awaited<ReturnType<ReturnType<typeof baseQuery>['executeTakeFirstOrThrow']>>

function applicationFromRow(row: Row): Application {
  return {
    id: row.id,
    channelId: row.channel_id,
    channelName: row.channel_name,
    providerId: row.provider_id,
    providerName: row.provider_name,
    item: row.item,
    purpose: row.purpose,
    policyUrl: row.policy_url,
    state: row.state,
    applicantId: row.applicant_id,
    reviewerId: row.reviewer_id,
    reason: row.reason,
    createdAt: row.created_at,
    decidedAt: row.decided_at,
  }
}

export async function insertApplication(
  db: Executor,
  application: { channelId: string; item: string; purpose: string; policyUrl: string; applicantId: string | null },
): Promise<string> {
  const id = randomUUID()
  await db
    .insertInto('permission_applications')
    .values({
      id,
      channel_id: application.channelId,
      item: application.item,
      purpose: application.purpose,
      policy_url: application.policyUrl,
      state: 'applied',
      applicant_id: application.applicantId,
    })
    .execute()
  return id
}

export async function findApplication(db: Executor, id: string): Promise<Application | undefined> {
  if (!/^[0-9a-f-]{36}$/.test(id)) return undefined
  const row = await baseQuery(db).where('a.id', '=', id).executeTakeFirst()
  return row && applicationFromRow(row)
}

/** The review queue, oldest first, by keyset (created_at, id) after the cursor. */
export async function listApplications(
  db: Executor,
  state: ApplicationState,
  page: { after?: { createdAt: Date; id: string } | undefined; limit: number },
): Promise<Application[]> {
  let query = baseQuery(db).where('a.state', '=', state).orderBy('a.created_at').orderBy('a.id').limit(page.limit)
  const after = page.after
  // A row comparison, so the index range starts at the cursor (an OR would filter every earlier row).
  if (after) query = query.where((eb) => eb(eb.refTuple('a.created_at', 'a.id'), '>', eb.tuple(after.createdAt, after.id)))
  return (await query.execute()).map(applicationFromRow)
}

/** Every application of a channel, newest first (the console shows the latest per item). */
export async function listChannelApplications(db: Executor, channelId: string): Promise<Application[]> {
  return (await baseQuery(db).where('a.channel_id', '=', channelId).orderBy('a.created_at', 'desc').execute()).map(applicationFromRow)
}

export async function decideApplication(
  db: Executor,
  id: string,
  decision: { state: 'approved' | 'rejected'; reviewerId: string | null; reason: string | null; now: Date },
): Promise<boolean> {
  const result = await db
    .updateTable('permission_applications')
    .set({ state: decision.state, reviewer_id: decision.reviewerId, reason: decision.reason, decided_at: decision.now })
    .where('id', '=', id)
    .where('state', '=', 'applied')
    .executeTakeFirst()
  return Number(result.numUpdatedRows) === 1
}

/** Marks the approved application of an item suspended (its right was suspended). */
export async function suspendApprovedApplication(
  db: Executor,
  channelId: string,
  item: string,
  reviewerId: string | null,
  reason: string | null,
  now: Date,
): Promise<void> {
  await db
    .updateTable('permission_applications')
    .set({ state: 'suspended', reviewer_id: reviewerId, reason, decided_at: now })
    .where('channel_id', '=', channelId)
    .where('item', '=', item)
    .where('state', '=', 'approved')
    .execute()
}

export async function recordRefusal(db: Executor, channelId: string, items: readonly string[], now: Date): Promise<void> {
  if (items.length === 0) return
  await db
    .insertInto('permission_refusals')
    .values(items.map((item) => ({ channel_id: channelId, item, last_at: now })))
    .onConflict((conflict) =>
      conflict.columns(['channel_id', 'item']).doUpdateSet((eb) => ({ count: eb('permission_refusals.count', '+', 1), last_at: now })),
    )
    .execute()
}

export async function listRefusals(db: Executor, channelId: string): Promise<{ item: string; count: number; lastAt: Date }[]> {
  const rows = await db.selectFrom('permission_refusals').selectAll().where('channel_id', '=', channelId).orderBy('item').execute()
  return rows.map((row) => ({ item: row.item, count: Number(row.count), lastAt: row.last_at }))
}

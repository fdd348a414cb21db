// A channel's per-item permissions as the console and the administration pages show them: the
// approved items, else the latest application's state, else "not applied".
import type { MessageKey } from '../i18n/index.ts'
import { DATA_ITEMS } from '../oauth/scopes.ts'
import type { Executor } from '../storage/database.ts'
import { listChannelApplications, listRefusals } from '../storage/applications.ts'
import type { Channel } from '../storage/channels.ts'
import { listTesters } from '../storage/console.ts'

/** A permission's state as people read it (console and admin pages). */
export const STATE_LABELS: Record<string, MessageKey> = {
  approved: 'console.state.approved',
  applied: 'console.state.applied',
  rejected: 'console.state.rejected',
  suspended: 'console.state.suspended',
  'not applied': 'console.state.notApplied',
}

export interface Permission {
  item: string
  state: string
  stateLabel: MessageKey
  reason: string | null
}

export async function channelPermissions(db: Executor, channel: Pick<Channel, 'id' | 'approvedItems'>): Promise<Permission[]> {
  const applications = await listChannelApplications(db, channel.id)
  return DATA_ITEMS.map((item) => {
    const latest = applications.find((application) => application.item === item)
    const state = channel.approvedItems.includes(item) ? 'approved' : (latest?.state ?? 'not applied')
    return { item, state, stateLabel: STATE_LABELS[state] ?? 'console.state.notApplied', reason: latest?.reason ?? null }
  })
}

/** What a channel's console page shows besides its settings. */
export async function channelOverview(db: Executor, channel: Channel) {
  const [permissions, refusals, testers] = await Promise.all([
    channelPermissions(db, channel),
    listRefusals(db, channel.id),
    listTesters(db, channel.id),
  ])
  return {
    permissions,
    // What may be applied for now: neither approved nor waiting for review.
    applicable: permissions.filter((row) => row.state !== 'approved' && row.state !== 'applied').map((row) => row.item),
    refusals: refusals.filter((refusal) => !channel.approvedItems.includes(refusal.item)),
    testers,
  }
}

// The data export: everything plusid holds about the user as one JSON document, audited.
import type { Kysely } from 'kysely'
import { profileToClaims } from '../profile/profile.ts'
import { appendAudit } from '../storage/audit.ts'
import type { DB } from '../storage/schema.ts'
import { exportUserData } from '../storage/user-data.ts'
import type { Self } from './actor.ts'

/** The export document; `currentSession` (its creation time) marks the session that asked for it. */
export async function exportAccount(db: Kysely<DB>, self: Self, currentSession: { createdAt: Date }) {
  const data = await exportUserData(db, self.userId)
  const document = {
    exported_at: new Date().toISOString(),
    account: {
      id: data.account.id,
      email: data.account.email,
      name: data.account.name,
      picture_url: data.account.pictureUrl,
      administrator: data.account.isAdmin,
      created_at: data.account.createdAt,
      updated_at: data.account.updatedAt,
    },
    profile: data.profile ? { ...profileToClaims(data.profile.values), updated_at: data.profile.updatedAt } : {},
    authorized_apps: data.apps.map((a) => ({
      channel_id: a.channelId,
      channel: a.channelName,
      provider: a.providerName,
      granted: a.grantedItems,
      refused: a.refusedItems,
      first_used_at: a.firstUsedAt,
      last_used_at: a.lastUsedAt,
    })),
    sharing_history: data.releases.map((r) => ({ at: r.at, channel_id: r.channelId, channel: r.channelName, items: r.items })),
    provider_memberships: data.memberships.map((m) => ({ provider: m.providerName, role: m.role, since: m.since })),
    sessions: data.sessions.map((s) => ({
      created_at: s.createdAt,
      last_seen_at: s.lastSeenAt,
      expires_at: s.expiresAt,
      ip: s.ip,
      user_agent: s.userAgent,
      current: s.createdAt.getTime() === currentSession.createdAt.getTime(),
    })),
  }
  await appendAudit(db, {
    actorId: self.userId,
    actorKind: 'user',
    ip: self.ip,
    action: 'account.exported',
    objectType: 'user',
    objectId: self.userId,
  })
  return document
}

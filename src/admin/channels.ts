// Channels as administrators see them: a search (newest first, by id, or by name prefix) and one
// channel with its permissions, provider and owners. Suspending is console/review.ts.
import type { Executor } from '../storage/database.ts'
import { findChannel, type Channel } from '../storage/channels.ts'
import { findProviderName, listChannelOwners, searchChannels, type ChannelCursor } from '../storage/console.ts'
import { channelPermissions, type Permission } from '../console/permissions.ts'
import { ChannelAfterCursor, decodeCursor, NameCursor, nextCursor } from './cursors.ts'
import { z } from 'zod'

export interface ChannelListing {
  id: string
  name: string
  providerName: string
  kind: Channel['kind']
  status: Channel['status']
  suspendedAt: Date | null
}

/** A page of channels matching `q` (see storage's searchChannels); `cursor` is the previous page's `next`. */
export async function searchChannelsPage(db: Executor, q: string, cursor: unknown, limit: number) {
  const after: ChannelCursor | undefined = decodeCursor(cursor, z.union([NameCursor, ChannelAfterCursor]))
  const rows = await searchChannels(db, q, { after, limit })
  const channels: ChannelListing[] = rows.map((row) => ({
    id: row.id,
    name: row.name,
    providerName: row.provider_name,
    kind: row.kind,
    status: row.status,
    suspendedAt: row.suspended_at,
  }))
  const next = nextCursor(rows, limit, (last) => (q ? { name: last.name_key, id: last.id } : { createdAt: last.created_at, id: last.id }))
  return { channels, next }
}

export interface ChannelDetail {
  channel: Channel
  permissions: Permission[]
  providerName: string
  owners: string[]
}

export async function channelDetail(db: Executor, channelId: string): Promise<ChannelDetail | undefined> {
  const channel = await findChannel(db, channelId)
  if (!channel) return undefined
  const [permissions, providerName, owners] = await Promise.all([
    channelPermissions(db, channel),
    findProviderName(db, channel.providerId),
    listChannelOwners(db, channel.providerId),
  ])
  return { channel, permissions, providerName: providerName ?? '', owners }
}

// Who may see what in the console: a provider's pages need membership, a channel's pages need
// membership of its provider. Each answer is a domain object the pages render.
import type { Executor } from '../storage/database.ts'
import { findChannel, type Channel } from '../storage/channels.ts'
import {
  findMembership,
  listMembers,
  listProviderChannels,
  listUserProviders,
  type ChannelSummary,
  type ProviderSummary,
  type Role,
} from '../storage/console.ts'

export type { ChannelSummary, ProviderSummary, Role }

export interface Membership {
  providerId: string
  providerName: string
  role: Role
}

/** A channel as one of its provider's members sees it. */
export interface MemberChannel {
  channel: Channel
  role: Role
  providerName: string
}

export function myProviders(db: Executor, userId: string): Promise<ProviderSummary[]> {
  return listUserProviders(db, userId)
}

/** The user's membership of the provider, or null when they are not a member (or it does not exist). */
export async function membershipOf(db: Executor, providerId: string, userId: string): Promise<Membership | null> {
  const found = await findMembership(db, providerId, userId)
  return found && { providerId, ...found }
}

/** The channel and the user's role in its provider; null for a non-member (the page says 404). */
export async function channelForMember(db: Executor, channelId: string, userId: string): Promise<MemberChannel | null> {
  const channel = await findChannel(db, channelId)
  const membership = channel ? await findMembership(db, channel.providerId, userId) : null
  if (!channel || !membership) return null
  return { channel, role: membership.role, providerName: membership.providerName }
}

/** What a provider's page shows: its members and its channels. */
export async function providerOverview(db: Executor, providerId: string) {
  const [members, channels] = await Promise.all([listMembers(db, providerId), listProviderChannels(db, providerId)])
  return { members, channels }
}

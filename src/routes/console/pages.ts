// What the console's pages share: the refusal pages, and the provider and channel pages rendered
// with their forms (fresh, or again with the values and messages of a refused post).
import type { FastifyReply, FastifyRequest } from 'fastify'
import { textOf } from '../../http/forms.ts'
import type { MessageKey } from '../../i18n/index.ts'
import { DEFAULT_ID_TOKEN_ALG } from '../../oauth/channels.ts'
import { discoveryUrl } from '../../oauth/discovery.ts'
import { channelOverview } from '../../console/permissions.ts'
import { providerOverview, type MemberChannel, type Membership } from '../../console/access.ts'
import { channelSnippets } from '../../console/snippets.ts'

export const textValues = (body: Record<string, unknown>, names: string[]) =>
  Object.fromEntries(names.map((name) => [name, textOf(body, name)]))

/** After an invitation: the one answer, whether or not the email has an account. */
export const invitedNotice = (request: FastifyRequest, key: 'console.memberInvited' | 'console.testerInvited') =>
  (request.query as Record<string, unknown>).invited === '1' ? { invitedNotice: request.t(key) } : {}

/** Another provider's pages answer 404: their existence does not leak. */
export function notFound(reply: FastifyReply) {
  const t = reply.request.t.bind(reply.request)
  return reply.code(404).page('error', {
    title: t('errors.notFoundTitle'),
    heading: t('errors.notFoundHeading'),
    message: t('errors.notFoundMessage'),
    link: { href: '/console', label: t('console.title') },
  })
}

export function forbidden(reply: FastifyReply, message: MessageKey) {
  const t = reply.request.t.bind(reply.request)
  return reply.code(403).page('error', {
    title: t('errors.forbiddenTitle'),
    heading: t('errors.forbiddenTitle'),
    message: t(message),
    link: { href: '/console', label: t('console.title') },
  })
}

export async function providerPage(reply: FastifyReply, membership: Membership, extra: Record<string, unknown> = {}) {
  const { members, channels } = await providerOverview(reply.server.db, membership.providerId)
  return reply.page('console-provider', {
    title: membership.providerName,
    provider: { id: membership.providerId, name: membership.providerName },
    role: membership.role,
    members,
    channels,
    channelValues: { kind: 'web', id_token_alg: DEFAULT_ID_TOKEN_ALG, error_style: 'rfc' },
    channelErrors: {},
    memberValues: {},
    memberErrors: {},
    ...extra,
  })
}

export async function channelPage(reply: FastifyReply, found: MemberChannel, extra: Record<string, unknown> = {}) {
  const { channel } = found
  const issuer = reply.server.oauth.issuer
  const overview = await channelOverview(reply.server.db, channel)
  return reply.page('console-channel', {
    title: channel.name,
    channel,
    role: found.role,
    providerName: found.providerName,
    permissions: overview.permissions,
    refusals: overview.refusals,
    testers: overview.testers,
    items: overview.applicable,
    issuer,
    discoveryUrl: discoveryUrl(issuer),
    snippets: channelSnippets(channel, issuer),
    applyValues: { items: [] },
    applyErrors: {},
    testerValues: {},
    testerErrors: {},
    settingsValues: {
      name: channel.name,
      description: channel.description,
      icon_url: channel.iconUrl ?? '',
      privacy_policy_url: channel.privacyPolicyUrl ?? '',
      callback_urls: channel.callbackUrls.join('\n'),
      logout_urls: channel.logoutUrls.join('\n'),
      id_token_alg: channel.idTokenAlg,
      error_style: channel.errorStyle,
    },
    settingsErrors: {},
    ...extra,
  })
}

// Registering channels (OAuth clients): validation, the secret (shown once, stored hashed, and
// sealed with the master key for HS256 channels, which need it to sign), and permissions.
import { z } from 'zod'
import { sha256 } from '../crypto/tokens.ts'
import type { Executor } from '../storage/database.ts'
import { ensureProvider, insertChannel, setPermissions, addProviderMember, type ChannelKind, type IdTokenAlg } from '../storage/channels.ts'
import { callbackUrlProblem, logoutUrlProblem } from './callback-urls.ts'
import { english } from '../i18n/index.ts'
import { DATA_ITEMS } from './scopes.ts'
import { newChannelSecret, sealChannelSecret } from './channel-secret.ts'
import { trustedName } from '../console/names.ts'

/** New channels sign ID tokens with RS256 unless told otherwise. */
export const DEFAULT_ID_TOKEN_ALG = 'RS256' satisfies IdTokenAlg

export const NewChannelInput = z
  .object({
    // Shown on the consent page as the asking party: a name people can trust (console/names.ts).
    name: trustedName(100),
    callbackUrls: z.array(z.string()).min(1, 'at least one callback URL is required'),
    logoutUrls: z.array(z.string()).default([]),
    kind: z.enum(['web', 'spa', 'native'], { message: 'must be web, spa or native' }).default('web'),
    // RS256 is what OpenID Connect libraries expect when nothing is configured (go-oidc,
    // openid-client, express-openid-connect); ES256 (as LINE) and HS256 are chosen per channel.
    idTokenAlg: z.enum(['ES256', 'RS256', 'HS256'], { message: 'must be ES256, RS256 or HS256' }).default(DEFAULT_ID_TOKEN_ALG),
    errorStyle: z.enum(['rfc', 'line'], { message: 'must be rfc or line' }).default('rfc'),
    providerName: trustedName(100).default('default'),
    publish: z.boolean().default(false),
  })
  .superRefine((input, ctx) => {
    input.callbackUrls.forEach((url, index) => {
      const problem = callbackUrlProblem(url, input.kind)
      if (problem) ctx.addIssue({ code: 'custom', path: ['callbackUrls', index], message: `${url} ${english(problem)}` })
    })
    input.logoutUrls.forEach((url, index) => {
      const problem = logoutUrlProblem(url, input.kind)
      if (problem) ctx.addIssue({ code: 'custom', path: ['logoutUrls', index], message: `${url} ${english(problem)}` })
    })
    if (input.idTokenAlg === 'HS256' && input.kind !== 'web') {
      ctx.addIssue({ code: 'custom', path: ['idTokenAlg'], message: 'HS256 needs a channel secret: only web channels have one' })
    }
  })

export type NewChannelInput = z.input<typeof NewChannelInput>

export async function createChannel(
  db: Executor,
  masterKey: Buffer,
  input: z.output<typeof NewChannelInput>,
  owner?: { userId: string },
): Promise<{ channelId: string; channelSecret: string | null }> {
  const secret = input.kind === 'web' ? newChannelSecret() : null
  const providerId = await ensureProvider(db, input.providerName)
  if (owner) await addProviderMember(db, providerId, owner.userId, 'owner')
  const channelId = await insertChannel(db, {
    providerId,
    name: input.name,
    kind: input.kind as ChannelKind,
    callbackUrls: [...new Set(input.callbackUrls)],
    logoutUrls: [...new Set(input.logoutUrls)],
    idTokenAlg: input.idTokenAlg as IdTokenAlg,
    status: input.publish ? 'published' : 'developing',
    errorStyle: input.errorStyle,
    secretHash: secret ? sha256(secret) : null,
    sealSecret: (id) => (secret && input.idTokenAlg === 'HS256' ? sealChannelSecret(masterKey, id, secret) : null),
  })
  return { channelId, channelSecret: secret }
}

export const PermissionItems = z
  .array(z.enum(DATA_ITEMS, { message: `must be one of ${DATA_ITEMS.join(', ')}` }))
  .min(1, 'name at least one item')

/** Approves items for a channel, as an administrator's review would. */
export async function approvePermissions(db: Executor, channelId: string, items: readonly string[]): Promise<void> {
  await setPermissions(db, channelId, items, 'approved')
}

// The consent step's decision and the interaction's completion. The page (routes/interaction.ts)
// renders; this decides which items were granted, validates fill-ins as the profile editor does,
// and issues the code with the grant, the fill-ins and the audit entry in one transaction.
import type { Locale } from '../i18n/index.ts'
import { newAuthorizationCode } from '../oauth/authorization-flow.ts'
import type { AuthorizationRequest } from '../oauth/authorize.ts'
import type { OAuthContext } from '../oauth/context.ts'
import type { Grant } from '../oauth/interaction.ts'
import { type DataItem, isDataItem } from '../oauth/scopes.ts'
import { describeItem } from '../profile/labels.ts'
import { ITEM_FIELDS, type ProfileErrors, type ProfileItem, type ProfilePlus, validateProfileForm } from '../profile/profile.ts'
import { mergeDecision } from '../storage/grants.ts'
import { completeInteraction } from '../storage/interactions.ts'
import { saveProfile } from '../storage/profiles.ts'

/** Which data items the consent page asks about: the undecided ones, or all with prompt=consent or a public channel. */
export function shownItems(request: AuthorizationRequest, channelIsPublic: boolean, undecided: DataItem[]): DataItem[] {
  const requested = request.scopes.filter(isDataItem)
  return request.prompt.includes('consent') || channelIsPublic ? requested : undecided
}

export interface ConsentChoice {
  grant: Grant
  granted: string[]
  refused: string[]
  /** Profile+ values typed on the consent page for checked items the user had not registered. */
  fills: Partial<ProfilePlus> | null
}

export type ConsentDecision = { ok: true; choice: ConsentChoice } | { ok: false; checked: Set<string>; errors: ProfileErrors }

const PROFILE_KEY: Record<ProfileItem, keyof ProfilePlus> = {
  real_name: 'realName',
  gender: 'gender',
  birthdate: 'birthdate',
  phone: 'phoneNumber',
  address: 'address',
}

/**
 * The user's answer to the items shown: checked items are granted, the others refused; a checked
 * item the user has not registered must be filled in on the page. The items decided now replace
 * earlier decisions on the same items; others stay as they were.
 */
export function decideConsent(
  locale: Locale,
  request: AuthorizationRequest,
  shown: DataItem[],
  body: Record<string, unknown>,
  profile: ProfilePlus,
  earlier: Grant | null,
): ConsentDecision {
  const checked = new Set(
    [body.items ?? []].flat().filter((item): item is string => typeof item === 'string' && (shown as string[]).includes(item)),
  )
  const toFill = shown.filter(
    (item): item is ProfileItem => item !== 'email' && checked.has(item) && describeItem(locale, profile, item) === null,
  )
  const filled = validateProfileForm(body, toFill)
  const errors: ProfileErrors = filled.ok ? {} : { ...filled.errors }
  if (filled.ok) {
    for (const item of toFill)
      if (filled.profile[PROFILE_KEY[item]] === null) errors[ITEM_FIELDS[item][0]] = { key: 'error.requiredToShare' }
  }
  if (Object.keys(errors).length > 0) return { ok: false, checked, errors }
  const required = request.scopes.filter((scope) => !isDataItem(scope))
  const granted = [...required, ...shown.filter((item) => checked.has(item))]
  const refused = shown.filter((item) => !checked.has(item))
  const fills = toFill.length > 0 && filled.ok ? filled.profile : null
  return { ok: true, choice: { grant: mergeDecision(earlier, granted, refused), granted, refused, fills } }
}

export interface Completion {
  interactionId: string
  request: AuthorizationRequest
  channelId: string
  /** The browser session: the code is issued only while it exists. */
  session: { id: string; userId: string; authTime: Date }
  scopes: string[]
  amr: string[]
  ip: string
  /** The consent decided on this page, or null when nothing was asked. */
  choice: ConsentChoice | null
}

/**
 * Issues the code for the decided scopes: the interaction ends, the grant is recorded, the consent
 * audited and the code stored in one statement (with the profile fill-ins, if any, in the same
 * transaction). Returns the code, or null when the interaction was already completed.
 */
export async function completeAuthorization(oauth: OAuthContext, c: Completion): Promise<string | null> {
  const now = new Date()
  const { userId } = c.session
  const { code, record } = newAuthorizationCode(oauth, c.request, userId, c.scopes, c.session.authTime, c.amr, now)
  const completion = {
    interactionId: c.interactionId,
    userId,
    channelId: c.channelId,
    grant: c.choice?.grant ?? null,
    code: record,
    sessionId: c.session.id,
    now,
    ...(c.choice
      ? {
          audit: {
            actorId: userId,
            actorKind: 'user' as const,
            action: 'consent.decided',
            objectType: 'channel',
            objectId: c.channelId,
            ip: c.ip,
            details: { granted: c.choice.granted, refused: c.choice.refused },
          },
        }
      : {}),
  }
  const fills = c.choice?.fills
  const completed = fills
    ? await oauth.db.transaction().execute(async (trx) => {
        if (!(await completeInteraction(trx, completion))) return false
        await saveProfile(trx, userId, fills)
        return true
      })
    : await completeInteraction(oauth.db, completion)
  return completed ? code : null
}

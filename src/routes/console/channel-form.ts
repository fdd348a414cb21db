// The channel form (creating a channel and its settings page): every field checked at once (the
// callback URLs too, even when another field is wrong), so each message appears next to its field
// in one round.
import { z } from 'zod'
import { fieldErrors } from '../../http/forms.ts'
import type { Translate } from '../../i18n/index.ts'
import { callbackUrlProblem, logoutUrlProblem } from '../../oauth/callback-urls.ts'
import { DEFAULT_ID_TOKEN_ALG } from '../../oauth/channels.ts'
import type { NewConsoleChannel } from '../../console/channels.ts'
import { trustedName } from '../../console/names.ts'

const optionalHttpsUrl = z
  .string()
  .trim()
  .transform((value) => (value === '' ? null : value))
  .refine((value) => value === null || callbackUrlProblem(value, 'web') === null, { message: 'error.https' })

const ChannelFields = z.object({
  name: trustedName(100),
  description: z.string().trim().max(500, 'error.tooLong').default(''),
  icon_url: optionalHttpsUrl.default(''),
  privacy_policy_url: optionalHttpsUrl.default(''),
  kind: z.enum(['web', 'spa', 'native'], { message: 'error.kind' }).default('web'),
  callback_urls: z.string().default(''),
  logout_urls: z.string().default(''),
  id_token_alg: z.enum(['ES256', 'RS256', 'HS256'], { message: 'error.idTokenAlg' }).default(DEFAULT_ID_TOKEN_ALG),
  error_style: z.enum(['rfc', 'line'], { message: 'error.errorStyle' }).default('rfc'),
})

export const CHANNEL_FORM_FIELDS = Object.keys(ChannelFields.shape)

/** A textarea's lines: trimmed, blank lines and repeats dropped. */
const lines = (value: unknown) => [
  ...new Set(
    (typeof value === 'string' ? value : '')
      .split(/\r?\n/)
      .map((line) => line.trim())
      .filter(Boolean),
  ),
]

/** Each URL with its problem, joined for the field's one message. */
function urlProblems(urls: string[], problemOf: (url: string) => Parameters<Translate>[0] | null, t: Translate): string | undefined {
  const problems = urls.map((url) => [url, problemOf(url)] as const).filter(([, problem]) => problem)
  return problems.length > 0 ? problems.map(([url, problem]) => `${url} ${t(problem!)}`).join('; ') : undefined
}

export function parseChannelForm(
  body: Record<string, unknown>,
  t: Translate,
): { ok: true; settings: NewConsoleChannel } | { ok: false; errors: Record<string, string> } {
  const parsed = ChannelFields.safeParse(body)
  const errors: Record<string, string> = parsed.success ? {} : fieldErrors(parsed.error, t)
  const kind = body.kind === 'spa' || body.kind === 'native' ? body.kind : 'web'
  const callbackUrls = lines(body.callback_urls)
  const logoutUrls = lines(body.logout_urls)
  const callbackProblem = urlProblems(callbackUrls, (url) => callbackUrlProblem(url, kind), t)
  if (callbackUrls.length === 0) errors.callback_urls = t('error.callbackRequired')
  else if (callbackProblem) errors.callback_urls = callbackProblem
  const logoutProblem = urlProblems(logoutUrls, (url) => logoutUrlProblem(url, kind), t)
  if (logoutProblem) errors.logout_urls = logoutProblem
  if (body.id_token_alg === 'HS256' && kind !== 'web') errors.id_token_alg = t('error.hs256NeedsSecret')
  if (!parsed.success || Object.keys(errors).length > 0) return { ok: false, errors }
  const form = parsed.data
  return {
    ok: true,
    settings: {
      name: form.name,
      description: form.description,
      iconUrl: form.icon_url,
      privacyPolicyUrl: form.privacy_policy_url,
      kind: form.kind,
      callbackUrls,
      logoutUrls,
      idTokenAlg: form.id_token_alg,
      errorStyle: form.error_style,
    },
  }
}
